import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type ServiceImpl } from "@connectrpc/connect";
import {
  type GetTokenRequest,
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { codeNameOf } from "../observability/response-code.js";
import { createCallContext } from "./call-context.js";
import type { CallGuard } from "./call-guard.js";
import { httpStatusFromCode } from "./http-status.js";
import { readBody } from "./json-response.js";
import type { NodeRequest, NodeResponse } from "./node-types.js";
import { requestHeadersOf } from "./request-headers.js";

export interface GetTokenFastPathOptions {
  service: ServiceImpl<typeof TokenService>;
  callGuard: CallGuard | undefined;
  maxBodyBytes: number;
  contextValues: (req: NodeRequest) => ContextValues;
  /** Receives what was thrown that is no ConnectError (a bug); the caller sees `internal`. */
  onInternalError: (error: unknown) => void;
}

/** The wire formats the fast path answers itself; anything else goes to connect-node. */
type Wire = "connect-json" | "connect-proto" | "grpc" | "grpc-web";

const PATH = `/${TokenService.typeName}/${TokenService.method.getToken.name}`;
const FRAME_HEADER_BYTES = 5;
const GRPC_WEB_TRAILER_FLAG = 0x80;

/**
 * Serves the common case of `GetToken` (a unary POST, uncompressed, in Connect JSON or binary,
 * gRPC over HTTP/2, or gRPC-Web binary) without connect-node's generic machinery, which costs
 * most of a token request's time (abort signals, async iteration, per-call header objects).
 * It calls the same call guard and `TokenService` implementation and answers in each
 * protocol's own format; every other request (compression, GET, JSON over gRPC, gRPC-Web text,
 * gRPC on HTTP/1.1) returns false and goes to connect-node. Only used when no other Connect
 * interceptors are configured, since it does not run them.
 */
export function getTokenFastPath({
  service,
  callGuard,
  maxBodyBytes,
  contextValues,
  onInternalError,
}: GetTokenFastPathOptions): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (req.method !== "POST" || req.url !== PATH) return false;
    const wire = wireOf(req);
    if (wire === undefined) return false;
    answer(req, res, wire).catch((error: unknown) => {
      // Writing the answer failed: a bug unless the client has gone. Never leave it hanging.
      if (res.writableEnded) return;
      onInternalError(error);
      res.destroy();
    });
    return true;
  };

  async function answer(req: NodeRequest, res: NodeResponse, wire: Wire): Promise<void> {
    try {
      const body = await readBody(req, maxBodyBytes);
      // The client went away mid-body: nobody is left to answer.
      if (body.kind === "aborted") return;
      if (body.kind === "too-large") {
        throw new ConnectError(
          `message size is larger than configured readMaxBytes ${maxBodyBytes}`,
          Code.ResourceExhausted,
        );
      }
      const request = decodeRequest(wire, body.bytes);
      const context = createCallContext({
        method: TokenService.method.getToken,
        protocolName: wire.startsWith("connect") ? "connect" : wire,
        requestMethod: "POST",
        url: PATH,
        requestHeader: requestHeadersOf(req),
        values: contextValues(req),
      });
      await callGuard?.check({ header: context.requestHeader, values: context.values }, request);
      const response = create(GetTokenResponseSchema, await service.getToken(request, context));
      writeSuccess(res, wire, response);
    } catch (error) {
      if (error instanceof ConnectError) {
        writeError(res, wire, error);
      } else {
        onInternalError(error);
        writeError(res, wire, new ConnectError("internal error", Code.Internal));
      }
    }
  }
}

function wireOf(req: NodeRequest): Wire | undefined {
  const contentType = (req.headers["content-type"] ?? "").toLowerCase().split(";")[0]?.trim();
  const encoding = req.headers["content-encoding"] ?? req.headers["grpc-encoding"] ?? "identity";
  if (encoding !== "identity") return undefined;
  switch (contentType) {
    case "application/json":
      return "connect-json";
    case "application/proto":
      return "connect-proto";
    case "application/grpc":
    case "application/grpc+proto":
      // gRPC needs HTTP/2 trailers; connect-node says so to HTTP/1.1 callers.
      return req.httpVersionMajor === 2 ? "grpc" : undefined;
    case "application/grpc-web":
    case "application/grpc-web+proto":
      return "grpc-web";
    default:
      return undefined;
  }
}

function decodeRequest(wire: Wire, bytes: Buffer): GetTokenRequest {
  if (wire === "connect-json") {
    try {
      const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      return fromJsonString(GetTokenRequestSchema, text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConnectError(
        `cannot decode message ${GetTokenRequestSchema.typeName} from JSON: ${reason}`,
        Code.InvalidArgument,
      );
    }
  }
  const message = wire === "connect-proto" ? bytes : unframe(bytes);
  try {
    return fromBinary(GetTokenRequestSchema, message);
  } catch {
    // The words of check-request-message.ts, which answers the same for connect-node's path.
    throw new ConnectError(
      `the request message is not a valid ${GetTokenRequestSchema.typeName} in protobuf binary`,
      Code.InvalidArgument,
    );
  }
}

/** The one message of a unary gRPC or gRPC-Web request body. */
function unframe(bytes: Buffer): Buffer {
  if (bytes.length < FRAME_HEADER_BYTES) {
    throw new ConnectError("the request has no complete message frame", Code.InvalidArgument);
  }
  if ((bytes[0] ?? 0) & 1) {
    throw new ConnectError(
      "the request message is marked compressed but grpc-encoding names no compression",
      Code.InvalidArgument,
    );
  }
  const length = bytes.readUInt32BE(1);
  if (bytes.length !== FRAME_HEADER_BYTES + length) {
    throw new ConnectError(
      "the request must carry exactly one message frame",
      Code.InvalidArgument,
    );
  }
  return bytes.subarray(FRAME_HEADER_BYTES);
}

function frame(flags: number, payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  framed[0] = flags;
  framed.writeUInt32BE(payload.length, 1);
  framed.set(payload, FRAME_HEADER_BYTES);
  return framed;
}

function writeSuccess(
  res: NodeResponse,
  wire: Wire,
  response: ReturnType<typeof create<typeof GetTokenResponseSchema>>,
): void {
  switch (wire) {
    case "connect-json":
      end(
        res,
        200,
        { "content-type": "application/json" },
        toJsonString(GetTokenResponseSchema, response),
      );
      return;
    case "connect-proto":
      end(
        res,
        200,
        { "content-type": "application/proto" },
        toBinary(GetTokenResponseSchema, response),
      );
      return;
    case "grpc":
      res.writeHead(200, { "content-type": "application/grpc+proto" });
      res.write(frame(0, toBinary(GetTokenResponseSchema, response)));
      res.addTrailers({ "grpc-status": "0" });
      res.end();
      return;
    case "grpc-web":
      end(
        res,
        200,
        { "content-type": "application/grpc-web+proto" },
        Buffer.concat([
          frame(0, toBinary(GetTokenResponseSchema, response)),
          frame(GRPC_WEB_TRAILER_FLAG, Buffer.from("grpc-status: 0\r\n")),
        ]),
      );
      return;
  }
}

function writeError(res: NodeResponse, wire: Wire, error: ConnectError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const metadata: Record<string, string> = {};
  error.metadata.forEach((value, name) => {
    metadata[name] = value;
  });
  const status = String(error.code);
  const message = encodeURIComponent(wellFormed(error.rawMessage));
  switch (wire) {
    case "connect-json":
    case "connect-proto":
      end(
        res,
        httpStatusFromCode(error.code),
        { ...metadata, "content-type": "application/json" },
        JSON.stringify({ code: codeNameOf(error.code), message: error.rawMessage }),
      );
      return;
    case "grpc":
      // As connect-node does: the status and the error's metadata travel as trailers.
      res.writeHead(200, { "content-type": "application/grpc+proto" });
      res.addTrailers({ ...metadata, "grpc-status": status, "grpc-message": message });
      res.end();
      return;
    case "grpc-web": {
      const trailer = Object.entries({
        ...metadata,
        "grpc-status": status,
        "grpc-message": message,
      })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      end(
        res,
        200,
        { "content-type": "application/grpc-web+proto" },
        frame(GRPC_WEB_TRAILER_FLAG, Buffer.from(trailer)),
      );
      return;
    }
  }
}

/** Lone UTF-16 surrogates (from a caller's text) become U+FFFD, so that they can be encoded. */
function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}

function end(
  res: NodeResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
): void {
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}
