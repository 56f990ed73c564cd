import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { sendJson } from "../http/json-response.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import {
  type ByteStreamRequest,
  checkRequestMessage,
  refusedRequest,
} from "./check-request-message.js";
import { endCallOnAbort } from "./end-call-on-abort.js";
import {
  compressMinBytes,
  rpcBinaryOptions,
  rpcCompressions,
  rpcJsonOptions,
} from "./rpc-options.js";
import { RPC_PATH, type RpcWire, rpcWireOf } from "./rpc-wire.js";
import { createStreamingCalls, type StreamingCallsOptions } from "./streaming-calls.js";
import { writeUnaryResponse } from "./write-rpc-response.js";

export interface RpcHandlerOptions {
  /** Registers the services. */
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Largest request message accepted, before and after decompression, in bytes. */
  readMaxBytes: number;
  /** The bound on streaming calls: how many at once, and for how long each. */
  streamingCalls: StreamingCallsOptions;
  /** Answers requests for paths that are no RPC. */
  fallback: (req: NodeRequest, res: NodeResponse) => void;
  /** Receives failures that no client can be told about (a broken connection aside). */
  onInternalError: (error: unknown) => void;
  /** The request's context values, for interceptors and handlers. */
  contextValues?: (req: NodeRequest) => ContextValues;
}

export interface RpcHandler {
  (req: NodeRequest, res: NodeResponse): void;
  /** The HTTP methods an RPC path accepts (POST, and GET for side-effect-free methods). */
  allowedMethodsOf(path: string): readonly string[] | undefined;
}

/** Why this server refused the call before Connect read it, when it did; see {@link serve}. */
const refusalKey = createContextKey<ConnectError | undefined>(undefined, {
  description: "why the call was refused before its message was read",
});

/** Fails a call refused before Connect read it, before any other interceptor runs. */
const rejectRefused: Interceptor = (next) => (request) => {
  const refusal = request.contextValues.get(refusalKey);
  if (refusal !== undefined) throw refusal;
  return next(request);
};

/**
 * Reports what an implementation or interceptor threw that is no ConnectError (a bug), which
 * Connect would turn into a bare `internal error` without telling anyone.
 */
function reportInternalErrors(onInternalError: (error: unknown) => void): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      onInternalError(error);
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}

/** The wire of a request that names no protocol this server speaks, for its error. */
const connectJsonWire = rpcWireOf("application/json") as RpcWire;

/**
 * Serves the router's RPCs over gRPC, gRPC-Web and Connect, as connect-node's
 * `connectNodeAdapter` does, but: each request message is judged first by the rules the GetToken
 * fast path shares (`checkRequestMessage`), streaming calls are bounded in number and age, every
 * call ends when its deadline passes, an unknown method of an RPC-shaped path gets the
 * protocol's own `unimplemented`, a 405 says what is allowed, a request without a usable Host is
 * answered 400 instead of throwing out of the request listener, and failures go to
 * `onInternalError`.
 */
export function createRpcHandler({
  routes,
  interceptors,
  readMaxBytes,
  streamingCalls: streamingCallsOptions,
  fallback,
  onInternalError,
  contextValues,
}: RpcHandlerOptions): RpcHandler {
  const router = createConnectRouter({
    interceptors: [
      reportInternalErrors(onInternalError),
      rejectRefused,
      endCallOnAbort,
      ...interceptors,
    ],
    readMaxBytes,
    acceptCompression: [...rpcCompressions],
    compressMinBytes,
    jsonOptions: rpcJsonOptions,
    binaryOptions: rpcBinaryOptions,
  });
  routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const services = new Set(router.handlers.map((handler) => handler.service.typeName));
  const streamingCalls = createStreamingCalls(streamingCallsOptions);

  const handle = (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const handler = handlers.get(path);
    if (handler === undefined) {
      const rpc = RPC_PATH.exec(path);
      if (rpc) answerUnimplemented(req, res, rpc[1] ?? "", rpc[2] ?? "");
      else fallback(req, res);
      return;
    }
    let request: ByteStreamRequest;
    try {
      request = universalRequestFromNodeRequest(
        req,
        res,
        undefined,
        contextValues?.(req),
      ) as ByteStreamRequest;
    } catch {
      // No Host header (HTTP/1.0) or one that is no valid authority.
      sendJson(res, 400, { error: "the request must name a valid host in Host or :authority" });
      return;
    }
    serve(handler, request, res)
      .then((response) => universalResponseToNodeResponse(withAllow(handler, response), res))
      .catch((reason: unknown) => {
        // Aborted: the client went away, and there is nobody left to answer.
        if (ConnectError.from(reason).code !== Code.Aborted) onInternalError(reason);
      });
  };

  async function serve(handler: UniversalHandler, request: ByteStreamRequest, res: NodeResponse) {
    const wire =
      request.method === "POST" ? rpcWireOf(request.header.get("content-type")) : undefined;
    const { methodKind } = handler.method;
    // Connect answers what is no protocol's POST itself (405, 415). Client and bidi streams
    // (none are served here) carry many messages: Connect bounds each one.
    if (
      wire === undefined ||
      methodKind === "client_streaming" ||
      methodKind === "bidi_streaming"
    ) {
      return handler(request);
    }
    let admitted = request;
    if (methodKind === "server_streaming") {
      const admission = streamingCalls.admit(res, request.signal);
      if (admission.kind === "refused") {
        return refuse(handler, refusedRequest(request, wire), admission.error);
      }
      admitted = { ...request, signal: admission.signal };
    }
    const check = await checkRequestMessage(admitted, wire, {
      input: handler.method.input,
      maxBytes: readMaxBytes,
      compressions: rpcCompressions,
    });
    if (check.kind === "ok") return handler(check.request);
    return refuse(handler, check.request, check.error);
  }

  /** Has Connect's handler answer `error` in the request's protocol (see {@link rejectRefused}). */
  function refuse(handler: UniversalHandler, request: ByteStreamRequest, error: ConnectError) {
    const values = request.contextValues ?? createContextValues();
    return handler({ ...request, contextValues: values.set(refusalKey, error) });
  }

  function answerUnimplemented(
    req: NodeRequest,
    res: NodeResponse,
    service: string,
    method: string,
  ) {
    const wire =
      (req.method === "POST" && rpcWireOf(req.headers["content-type"])) || connectJsonWire;
    const error = new ConnectError(
      services.has(service)
        ? `${service} has no method ${method}`
        : `this server has no service ${service}`,
      Code.Unimplemented,
    );
    writeUnaryResponse(res, wire, { kind: "error", error }, { compression: null }).catch(
      onInternalError,
    );
  }

  return Object.assign(handle, {
    allowedMethodsOf: (path: string) => handlers.get(path)?.allowedMethods,
  });
}

/** RFC 9110: a 405 names the methods the resource allows. connect-node sends none. */
function withAllow(
  handler: UniversalHandler,
  response: UniversalServerResponse,
): UniversalServerResponse {
  if (response.status !== 405) return response;
  const header = new Headers(response.header);
  header.set("Allow", handler.allowedMethods.join(", "));
  return { ...response, header };
}
