import type { ConnectError } from "@connectrpc/connect";
import { type Compression, encodeEnvelope, envelopeCompress } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { NodeResponse } from "../http/node-types.js";
import { compressMinBytes, rpcJsonOptions } from "./rpc-options.js";
import type { RpcWire } from "./rpc-wire.js";

/** The answer of a unary call: the serialized response message, or an error. */
export type UnaryOutcome =
  | { kind: "message"; bytes: Uint8Array }
  | { kind: "error"; error: ConnectError };

export interface UnaryResponseInit {
  /** The response compression negotiated with the client, or null. */
  compression: Compression | null;
  /** Response headers and trailers the implementation set, if any. */
  header?: Headers | undefined;
  trailer?: Headers | undefined;
}

type NodeHeaders = Record<string, string>;

const GRPC_OK_TRAILER = trailerSerialize(new Headers({ "grpc-status": "0" }));

/**
 * Writes the answer of a unary call the way connect-node's handlers write it, with connect-es's
 * own serializers (error JSON, `grpc-status`/`grpc-message` trailers, the gRPC-Web trailer
 * frame, the Connect end-of-stream frame), so that a request answered here cannot be told from
 * one answered by connect-node except by framing headers (`content-length` where connect-node
 * streams the body chunked).
 */
export async function writeUnaryResponse(
  res: NodeResponse,
  wire: RpcWire,
  outcome: UnaryOutcome,
  { compression, header, trailer }: UnaryResponseInit,
): Promise<void> {
  if (res.headersSent) {
    res.end();
    return;
  }
  switch (wire.protocol) {
    case "connect":
      if (wire.framing === "envelopes") return writeConnectStream(res, wire, outcome, header);
      return writeConnectUnary(res, wire, outcome, compression, header, trailer);
    case "grpc":
      return writeGrpc(res, wire, outcome, compression, header, trailer);
    case "grpc-web":
      return writeGrpcWeb(res, wire, outcome, compression, header, trailer);
  }
}

async function writeConnectUnary(
  res: NodeResponse,
  wire: RpcWire,
  outcome: UnaryOutcome,
  compression: Compression | null,
  header: Headers | undefined,
  trailer: Headers | undefined,
): Promise<void> {
  const headers: NodeHeaders = {
    "content-type":
      wire.binary && outcome.kind === "message" ? "application/proto" : "application/json",
  };
  copyInto(headers, header);
  let status = 200;
  let body: Uint8Array;
  if (outcome.kind === "message") {
    body = outcome.bytes;
  } else {
    status = codeToHttpStatus(outcome.error.code);
    headers["content-type"] = "application/json";
    copyInto(headers, outcome.error.metadata);
    body = errorToJsonBytes(outcome.error, rpcJsonOptions);
  }
  if (compression && body.byteLength >= compressMinBytes) {
    body = await compression.compress(body);
    headers["content-encoding"] = compression.name;
  }
  trailer?.forEach((value, name) => {
    headers[`trailer-${name}`] = value;
  });
  headers["content-length"] = String(body.byteLength);
  res.writeHead(status, headers);
  res.end(body);
}

function writeConnectStream(
  res: NodeResponse,
  wire: RpcWire,
  outcome: UnaryOutcome,
  header: Headers | undefined,
): void {
  const headers: NodeHeaders = {
    "content-type": wire.binary ? "application/connect+proto" : "application/connect+json",
  };
  copyInto(headers, header);
  const error = outcome.kind === "error" ? outcome.error : undefined;
  const end = JSON.stringify(endStreamToJson(new Headers(), error, rpcJsonOptions));
  const frames = [encodeEnvelope(endStreamFlag, new TextEncoder().encode(end))];
  if (outcome.kind === "message") frames.unshift(encodeEnvelope(0, outcome.bytes));
  const body = Buffer.concat(frames);
  headers["content-length"] = String(body.byteLength);
  res.writeHead(200, headers);
  res.end(body);
}

async function writeGrpc(
  res: NodeResponse,
  wire: RpcWire,
  outcome: UnaryOutcome,
  compression: Compression | null,
  header: Headers | undefined,
  trailer: Headers | undefined,
): Promise<void> {
  res.writeHead(200, grpcHeaders(wire, "application/grpc", compression, header));
  if (outcome.kind === "message") res.write(await frame(0, outcome.bytes, compression));
  const trailers: NodeHeaders = {};
  copyInto(trailers, grpcTrailer(outcome, trailer));
  res.addTrailers(trailers);
  res.end();
}

async function writeGrpcWeb(
  res: NodeResponse,
  wire: RpcWire,
  outcome: UnaryOutcome,
  compression: Compression | null,
  header: Headers | undefined,
  trailer: Headers | undefined,
): Promise<void> {
  const headers = grpcHeaders(wire, "application/grpc-web", compression, header);
  const frames: Uint8Array[] = [];
  if (outcome.kind === "message") frames.push(await frame(0, outcome.bytes, compression));
  const trailerBytes =
    outcome.kind === "message" && trailer === undefined
      ? GRPC_OK_TRAILER
      : trailerSerialize(grpcTrailer(outcome, trailer));
  frames.push(await frame(trailerFlag, trailerBytes, compression));
  const body = Buffer.concat(frames);
  headers["content-length"] = String(body.byteLength);
  res.writeHead(200, headers);
  res.end(body);
}

/** One envelope, compressed as connect-es compresses it (from `compressMinBytes` on). */
async function frame(
  flags: number,
  data: Uint8Array,
  compression: Compression | null,
): Promise<Uint8Array> {
  const envelope = await envelopeCompress({ flags, data }, compression, compressMinBytes);
  return encodeEnvelope(envelope.flags, envelope.data);
}

function grpcHeaders(
  wire: RpcWire,
  contentType: string,
  compression: Compression | null,
  header: Headers | undefined,
): NodeHeaders {
  const headers: NodeHeaders = {
    "content-type": `${contentType}+${wire.binary ? "proto" : "json"}`,
  };
  if (compression) headers["grpc-encoding"] = compression.name;
  copyInto(headers, header);
  return headers;
}

/** The trailers connect-node sends: `grpc-status: 0`, then the error's status and metadata. */
function grpcTrailer(outcome: UnaryOutcome, trailer: Headers | undefined): Headers {
  const headers = new Headers({ "grpc-status": "0" });
  trailer?.forEach((value, name) => {
    headers.append(name, value);
  });
  return outcome.kind === "error" ? setTrailerStatus(headers, outcome.error) : headers;
}

function copyInto(target: NodeHeaders, source: Headers | undefined): void {
  source?.forEach((value, name) => {
    target[name] = value;
  });
}
