import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { sendJson } from "../http/json-response.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import {
  checkedHandler,
  cutCallKey,
  rejectRefused,
  reportInternalErrors,
} from "./checked-handler.js";
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

/** The wire of a request that names no protocol this server speaks, for its error. */
const connectJsonWire = rpcWireOf("application/json") as RpcWire;

/**
 * Serves the router's RPCs over gRPC, gRPC-Web and Connect, as connect-node's
 * `connectNodeAdapter` does, but: each handler is a {@link checkedHandler} (the request-message
 * rules the GetToken fast path shares, bounded streaming calls, `Allow` on a 405), every call
 * ends when its deadline passes, an unknown method of an RPC-shaped path gets the
 * protocol's own `unimplemented`, a request without a usable Host is
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
  const streamingCalls = createStreamingCalls(streamingCallsOptions);
  const handlers = new Map(
    router.handlers.map((handler) => [
      handler.requestPath,
      checkedHandler(handler, { readMaxBytes, streamingCalls }),
    ]),
  );
  const services = new Set(router.handlers.map((handler) => handler.service.typeName));

  const handle = (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const handler = handlers.get(path);
    if (handler === undefined) {
      const rpc = RPC_PATH.exec(path);
      if (rpc) answerUnimplemented(req, res, rpc[1] ?? "", rpc[2] ?? "");
      else fallback(req, res);
      return;
    }
    const values = contextValues?.(req) ?? createContextValues();
    values.set(cutCallKey, () => {
      if (!res.writableFinished) res.destroy();
    });
    let request: UniversalServerRequest;
    try {
      request = universalRequestFromNodeRequest(req, res, undefined, values);
    } catch {
      // No Host header (HTTP/1.0) or one that is no valid authority.
      sendJson(res, 400, { error: "the request must name a valid host in Host or :authority" });
      return;
    }
    handler(request)
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        // Aborted: the client went away, and there is nobody left to answer.
        if (ConnectError.from(reason).code !== Code.Aborted) onInternalError(reason);
      });
  };

  function answerUnimplemented(
    req: NodeRequest,
    res: NodeResponse,
    service: string,
    method: string,
  ) {
    const message = services.has(service)
      ? `${service} has no method ${method}`
      : `this server has no service ${service}`;
    sendRpcError(req, res, new ConnectError(message, Code.Unimplemented), onInternalError);
  }

  return Object.assign(handle, {
    allowedMethodsOf: (path: string) => handlers.get(path)?.allowedMethods,
  });
}

/**
 * Answers `error` in the protocol the request speaks (Connect JSON when it names none), for a
 * call that no handler serves.
 */
export function sendRpcError(
  req: NodeRequest,
  res: NodeResponse,
  error: ConnectError,
  onInternalError: (error: unknown) => void,
): void {
  const wire = (req.method === "POST" && rpcWireOf(req.headers["content-type"])) || connectJsonWire;
  writeUnaryResponse(res, wire, { kind: "error", error }, { compression: null }).catch(
    onInternalError,
  );
}
