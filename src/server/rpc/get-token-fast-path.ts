import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type ServiceImpl } from "@connectrpc/connect";
import { compressionNegotiate, createDeadlineSignal } from "@connectrpc/connect/protocol";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  TokenService,
} from "../../../gen/agora/token/v1/token_service_pb.js";
import { type CallContext, createCallContext, guardedCallOf } from "../../service/call-context.js";
import type { CallGuard } from "../../service/call-guard.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import { readNodeBody } from "../http/read-node-body.js";
import { requestHeadersOf } from "../http/request-headers.js";
import { untilAborted } from "./end-call-on-abort.js";
import { bodyReadLimit, decompressMessage, messageOfBody } from "./request-body.js";
import { decodeRequestMessage } from "./request-message.js";
import { requestTimeoutOf } from "./request-timeout.js";
import { rpcCompressions, rpcJsonOptions } from "./rpc-options.js";
import { type RpcWire, rpcWireOf } from "./rpc-wire.js";
import { type UnaryOutcome, writeUnaryResponse } from "./write-rpc-response.js";

export interface GetTokenFastPathOptions {
  service: ServiceImpl<typeof TokenService>;
  callGuard: CallGuard | undefined;
  maxBodyBytes: number;
  contextValues: (req: NodeRequest) => ContextValues;
  /** Receives what was thrown that is no ConnectError (a bug); the caller sees `internal`. */
  onInternalError: (error: unknown) => void;
}

const PATH = `/${TokenService.typeName}/${TokenService.method.getToken.name}`;

/**
 * Serves the common case of `GetToken` (a unary POST, uncompressed, in Connect JSON or binary,
 * gRPC binary over HTTP/2, or gRPC-Web binary) without connect-node's generic machinery, which
 * costs most of a token request's time (abort signals, async iteration, per-call header
 * objects). Every protocol rule it applies is the one connect-node's path applies, from the same
 * code: connect-es's content-type and timeout parsers, compression negotiation and error and
 * trailer serializers, and this server's body and message rules (`./rpc/`). Every other request
 * (compression, GET, JSON over gRPC, gRPC on HTTP/1.1) returns false and goes to connect-node.
 * It runs the call guard and no other interceptor, so it is only used when none are configured.
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
    const wire = fastWireOf(req);
    if (wire === undefined) return false;
    answer(req, res, wire).catch((error: unknown) => {
      // Writing the answer failed: a bug unless the client has gone. Never leave it hanging.
      if (res.writableEnded) return;
      onInternalError(error);
      res.destroy();
    });
    return true;
  };

  async function answer(req: NodeRequest, res: NodeResponse, wire: RpcWire): Promise<void> {
    const { response: compression } = compressionNegotiate(
      [...rpcCompressions],
      null,
      header(req, wire.headers.acceptEncoding),
      wire.headers.acceptEncoding,
    );
    const timeout = requestTimeoutOf(wire, header(req, wire.headers.timeout));
    // connect-es's own deadline signal, started when the request arrives, as on its path.
    const deadline =
      timeout.kind === "ok"
        ? { at: Date.now() + timeout.timeoutMs, ...createDeadlineSignal(timeout.timeoutMs) }
        : undefined;
    const context = createCallContext({
      method: TokenService.method.getToken,
      protocolName: wire.protocol,
      requestMethod: "POST",
      url: PATH,
      requestHeader: () => requestHeadersOf(req),
      values: contextValues(req),
      deadline,
    });
    let outcome: UnaryOutcome | "aborted";
    try {
      if (timeout.kind === "invalid") throw timeout.error;
      outcome = await call(req, wire, context);
    } catch (error) {
      if (error instanceof ConnectError) {
        outcome = { kind: "error", error };
      } else {
        onInternalError(error);
        outcome = { kind: "error", error: new ConnectError("internal error", Code.Internal) };
      }
    } finally {
      deadline?.cleanup();
    }
    // The client went away mid-body: nobody is left to answer.
    if (outcome === "aborted") return;
    await writeUnaryResponse(res, wire, outcome, {
      compression,
      header: context.responseHeaderIfSet,
      trailer: context.responseTrailerIfSet,
    });
  }

  async function call(
    req: NodeRequest,
    wire: RpcWire,
    context: CallContext,
  ): Promise<UnaryOutcome | "aborted"> {
    const body = await readNodeBody(req, bodyReadLimit(wire.framing, maxBodyBytes));
    if (body.kind === "aborted") return "aborted";
    const message = messageOfBody(body, wire.framing, false, maxBodyBytes);
    if (message.kind === "refused") throw message.error;
    if (message.compressed) {
      // No encoding was named (or this request would have gone to connect-node).
      const refusal = await decompressMessage(
        message.bytes,
        undefined,
        wire.headers.encoding,
        maxBodyBytes,
      );
      if (refusal.kind === "refused") throw refusal.error;
    }
    const decoded = decodeRequestMessage(GetTokenRequestSchema, message.bytes, wire.binary);
    if (decoded.kind === "invalid") throw new ConnectError(decoded.reason, Code.InvalidArgument);
    const request = decoded.message;

    const run = async () => {
      await callGuard?.check(guardedCallOf(context), request);
      return create(GetTokenResponseSchema, await service.getToken(request, context));
    };
    // A deadline that has passed ends the call, as connect-node's path does (endCallOnAbort).
    const response =
      context.timeoutMs() === undefined ? await run() : await untilAborted(run(), context.signal);
    return {
      kind: "message",
      bytes: wire.binary
        ? toBinary(GetTokenResponseSchema, response)
        : utf8.encode(toJsonString(GetTokenResponseSchema, response, rpcJsonOptions)),
    };
  }
}

const utf8 = new TextEncoder();

/** The wires answered here: unary, identity-encoded, binary or Connect JSON, gRPC on HTTP/2. */
function fastWireOf(req: NodeRequest): RpcWire | undefined {
  const wire = rpcWireOf(req.headers["content-type"]);
  if (wire === undefined) return undefined;
  const encoding = header(req, wire.headers.encoding);
  if (encoding !== null && encoding !== "identity") return undefined;
  switch (wire.protocol) {
    case "connect":
      return wire.framing === "unary" ? wire : undefined;
    case "grpc":
      // gRPC needs HTTP/2 trailers; connect-node says so to HTTP/1.1 callers.
      return wire.binary && req.httpVersionMajor === 2 ? wire : undefined;
    case "grpc-web":
      return wire.binary ? wire : undefined;
  }
}

function header(req: NodeRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : (value?.join(", ") ?? null);
}
