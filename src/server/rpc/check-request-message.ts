import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Compression,
  encodeEnvelope,
  type UniversalServerRequest,
} from "@connectrpc/connect/protocol";
import { bodyReadLimit, decompressMessage, messageOfBody } from "./request-body.js";
import { decodeRequestMessage } from "./request-message.js";
import { requestTimeoutOf } from "./request-timeout.js";
import type { RpcWire } from "./rpc-wire.js";

/** A request whose body is a byte stream (every request connect-node's adapter hands over). */
export type ByteStreamRequest = Omit<UniversalServerRequest, "body"> & {
  body: AsyncIterable<Uint8Array>;
};

export type MessageCheck =
  | { kind: "ok"; request: ByteStreamRequest }
  | {
      kind: "refused";
      /**
       * The request with an empty, well-formed message in place of the refused one and without
       * the headers Connect would have refused first, for its handler to answer `error` with.
       */
      request: ByteStreamRequest;
      /** Worded for a gRPC error message (no `: , / ? #`). */
      error: ConnectError;
    };

export interface CheckRequestMessageOptions {
  /** The method's input message. */
  input: DescMessage;
  /** The largest message accepted, before and after decompression (`MAX_BODY_BYTES`). */
  maxBytes: number;
  /** The compressions the router accepts. */
  compressions: readonly Compression[];
}

/**
 * Judges the one request message of a call before connect-node reads it, by the rules the
 * GetToken fast path applies too (`./rpc/`): the encoding and timeout headers, one envelope
 * with valid flags, `maxBytes` before and after decompression, and the message's own decoding
 * (strict JSON). Nothing past one message is read, and nothing is decompressed until the
 * framing is known to hold exactly one. A request that breaks a rule is refused here with this
 * server's wording (connect-node would answer some of them `internal`, or with words gRPC
 * clients mangle); one that passes goes on unchanged for connect-node to serve.
 */
export async function checkRequestMessage(
  request: ByteStreamRequest,
  wire: RpcWire,
  { input, maxBytes, compressions }: CheckRequestMessageOptions,
): Promise<MessageCheck> {
  const refuse = (error: ConnectError): MessageCheck => ({
    kind: "refused",
    error,
    request: refusedRequest(request, wire),
  });
  const { headers } = wire;
  const encoding = request.header.get(headers.encoding);
  const compression =
    encoding === null || encoding === "identity"
      ? undefined
      : compressions.find(({ name }) => name === encoding);
  if (encoding !== null && encoding !== "identity" && compression === undefined) {
    const names = compressions.map(({ name }) => name);
    return refuse(
      new ConnectError(
        `${headers.encoding} must be ${[...names, "identity"].join(" or ")}`,
        Code.Unimplemented,
        { [headers.acceptEncoding]: names.join(",") },
      ),
    );
  }
  const timeoutHeader = request.header.get(headers.timeout);
  const timeout = requestTimeoutOf(wire, timeoutHeader);
  if (timeout.kind === "invalid") return refuse(timeout.error);

  const body = await readUpTo(request.body, bodyReadLimit(wire.framing, maxBytes), request);
  if (body.kind === "failed") return { kind: "ok", request: { ...request, body: body.body } };
  const framed = messageOfBody(body, wire.framing, compression !== undefined, maxBytes);
  if (framed.kind === "refused") return refuse(framed.error);
  let message = framed.bytes;
  if (framed.compressed) {
    const decompressed = await decompressMessage(message, compression, headers.encoding, maxBytes);
    if (decompressed.kind === "refused") return refuse(decompressed.error);
    message = decompressed.bytes;
  }
  const decoded = decodeRequestMessage(input, message, wire.binary);
  if (decoded.kind === "invalid") {
    return refuse(new ConnectError(decoded.reason, Code.InvalidArgument));
  }

  const passed = { ...request, body: once(body.bytes) };
  // A deadline too far away to set a timer for is none; connect-node would fire it at once.
  if (timeoutHeader !== null && timeout.kind === "none") {
    const header = new Headers(request.header);
    header.delete(headers.timeout);
    return { kind: "ok", request: { ...passed, header } };
  }
  return { kind: "ok", request: passed };
}

/** The request for Connect's handler to answer a refusal on: empty message, no checked headers. */
export function refusedRequest(request: ByteStreamRequest, wire: RpcWire): ByteStreamRequest {
  const header = new Headers(request.header);
  header.delete(wire.headers.encoding);
  header.delete(wire.headers.timeout);
  header.delete("content-length");
  const message = wire.binary ? new Uint8Array(0) : new TextEncoder().encode("{}");
  const body = wire.framing === "unary" ? message : encodeEnvelope(0, message);
  return { ...request, header, body: once(body) };
}

type ReadResult =
  | { kind: "read"; bytes: Uint8Array; complete: boolean; declaredLength: number | undefined }
  /** The client went away or broke the stream: the handler meets the same error. */
  | { kind: "failed"; body: AsyncIterable<Uint8Array> };

/** Reads the body while it stays within `limit`; stops at the first chunk past it. */
async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  request: ByteStreamRequest,
): Promise<ReadResult> {
  const declared = Number(request.header.get("content-length") ?? Number.NaN);
  const declaredLength = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      return { kind: "failed", body: failing(chunks, error) };
    }
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) {
      return { kind: "read", bytes: Buffer.concat(chunks, size), complete: false, declaredLength };
    }
  }
  return { kind: "read", bytes: Buffer.concat(chunks, size), complete: true, declaredLength };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function* failing(chunks: readonly Uint8Array[], error: unknown): AsyncIterable<Uint8Array> {
  yield* chunks;
  throw error;
}
