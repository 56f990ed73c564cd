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
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { type ByteStreamRequest, checkRequestMessage } from "./check-request-message.js";
import { sendJson } from "./json-response.js";
import type { NodeRequest, NodeResponse } from "./node-types.js";

export interface RpcHandlerOptions {
  /** Registers the services. */
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Largest request message accepted, in bytes; larger ones get `resource_exhausted`. */
  readMaxBytes: number;
  /** Answers requests for paths that are no RPC. */
  fallback: (req: NodeRequest, res: NodeResponse) => void;
  /** Receives failures that no client can be told about (a broken connection aside). */
  onInternalError: (error: unknown) => void;
  /** The request's context values, for interceptors and handlers. */
  contextValues?: (req: NodeRequest) => ContextValues;
}

/** Why the request message is malformed, when it is; set by {@link createRpcHandler}. */
const malformedMessage = createContextKey<string | undefined>(undefined, {
  description: "why the request message is malformed",
});

/** Fails a call whose request message was found malformed, before any other interceptor runs. */
const rejectMalformedMessage: Interceptor = (next) => (request) => {
  const reason = request.contextValues.get(malformedMessage);
  if (reason !== undefined) throw new ConnectError(reason, Code.InvalidArgument);
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

const compressions = [compressionGzip, compressionBrotli];

/**
 * Serves the router's RPCs over gRPC, gRPC-Web and Connect, as connect-node's
 * `connectNodeAdapter` does, but: a request message that does not decode is the client's
 * `invalid_argument` (Connect calls it `internal`), a request without a usable Host is answered
 * 400 instead of throwing out of the request listener, and failures go to `onInternalError`.
 */
export function createRpcHandler({
  routes,
  interceptors,
  readMaxBytes,
  fallback,
  onInternalError,
  contextValues,
}: RpcHandlerOptions): (req: NodeRequest, res: NodeResponse) => void {
  const router = createConnectRouter({
    interceptors: [reportInternalErrors(onInternalError), rejectMalformedMessage, ...interceptors],
    readMaxBytes,
    acceptCompression: compressions,
  });
  routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));

  return (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (handler === undefined) {
      fallback(req, res);
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
    serve(handler, request)
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        // Aborted: the client went away, and there is nobody left to answer.
        if (ConnectError.from(reason).code !== Code.Aborted) onInternalError(reason);
      });
  };

  async function serve(handler: UniversalHandler, request: ByteStreamRequest) {
    if (handler.method.methodKind !== "unary") return handler(request);
    const check = await checkRequestMessage(request, {
      input: handler.method.input,
      readMaxBytes,
      compressions,
    });
    if (check.kind === "ok") return handler(check.request);
    const values = check.request.contextValues ?? createContextValues();
    return handler({ ...check.request, contextValues: values.set(malformedMessage, check.reason) });
  }
}
