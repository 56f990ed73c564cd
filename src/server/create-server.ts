import {
  type ConnectRouter,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import {
  type CallGuard,
  callGuardInterceptor,
  clientAddressKey,
  credentialHeadersKey,
} from "../service/call-guard.js";
import { clientAddressOf, type TrustProxy } from "./http/client-address.js";
import { type CorsOptions, createCors } from "./http/cors.js";
import { credentialHeadersOf } from "./http/credential-headers.js";
import type { HttpRoute } from "./http/http-route.js";
import { sendJson } from "./http/json-response.js";
import type { NodeRequest, NodeResponse } from "./http/node-types.js";
import { legacyRoutes } from "./legacy/legacy-routes.js";
import { getTokenFastPath } from "./rpc/get-token-fast-path.js";
import { createRpcHandler } from "./rpc/rpc-handler.js";
import { STREAM_CLOSE_GRACE_MS } from "./rpc/streaming-calls.js";
import {
  createOnePortServer,
  type ListenerLimits,
  type OnePortServer,
} from "./transport/one-port-server.js";

/** The listener's limits and, for every protocol, the request and streaming-call bounds. */
export interface ServerLimits extends ListenerLimits {
  /**
   * Largest request body or RPC message accepted, in bytes, before and after decompression. The
   * default leaves room for the largest token InspectToken reads (16384 characters) in any
   * encoding.
   */
  maxBodyBytes: number;
  /** Most streaming calls (`Health/Watch`) open at once; more get `resource_exhausted`. */
  maxStreamingCalls: number;
  /** Longest a streaming call stays open before it is ended with `unavailable`, in ms. */
  streamingCallMaxAgeMs: number;
}

export const defaultLimits: ServerLimits = {
  maxBodyBytes: 20 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 10_000,
  http2MaxConcurrentStreams: 100,
  http2MaxSessionMemoryMb: 10,
  http2MaxSettings: 32,
  http2MaxOutstandingPings: 10,
  http2MaxInvalidFrames: 1_000,
  http2MaxRejectedStreams: 100,
  http2IdleTimeoutMs: 60_000,
  maxStreamingCalls: 1_000,
  streamingCallMaxAgeMs: 300_000,
};

export interface ServerOptions {
  service: ServiceImpl<typeof TokenService>;
  cors: CorsOptions;
  limits?: Partial<ServerLimits>;
  /** Longest a shutdown waits for requests in flight before closing their connections, in ms. */
  shutdownTimeoutMs?: number;
  /** Connect interceptors, run for every RPC on every protocol (gRPC, gRPC-Web, Connect). */
  interceptors?: Interceptor[];
  /** Registers more services on the same Connect router, next to `TokenService`. */
  routes?: (router: ConnectRouter) => void;
  /**
   * Plain HTTP routes tried, in order, after CORS and before the RPC and legacy routes. Each
   * returns true when it answered the request.
   */
  httpRoutes?: readonly HttpRoute[];
  /**
   * Who may call: run for every `TokenService` RPC (as the innermost interceptor, so the
   * `interceptors` above see its refusals) and by every legacy route before `getToken`.
   */
  callGuard?: CallGuard;
  /** How far to believe `X-Forwarded-For` for the client address every call carries. */
  trustProxy?: TrustProxy;
  /**
   * Called first for every request (logs, metrics, request ids). The context values it returns
   * reach the Connect interceptors and handlers, and the service calls of the legacy routes.
   */
  onRequest?: (req: NodeRequest, res: NodeResponse) => ContextValues | undefined;
  /**
   * Receives unexpected errors (a bug, a failed accept) that callers only see as a generic
   * `Internal` or 500. Log them, with secrets redacted (main.ts does).
   */
  onInternalError?: (error: unknown) => void;
}

/** The standalone server: listens, and drains on close. */
export type TokenServer = OnePortServer;

/**
 * The token service on one port: gRPC, gRPC-Web and Connect over HTTP/1.1 and cleartext HTTP/2,
 * and the legacy JSON routes, all answering from the same `TokenService` implementation.
 */
export function createServer({
  service,
  cors,
  limits: limitOverrides = {},
  shutdownTimeoutMs = 8_000,
  interceptors = [],
  routes = () => {},
  httpRoutes = [],
  callGuard,
  trustProxy = false,
  onRequest = () => undefined,
  onInternalError = () => {},
}: ServerOptions): TokenServer {
  const limits = { ...defaultLimits, ...limitOverrides };
  const requestValues = new WeakMap<NodeRequest, ContextValues>();
  const contextValues = (req: NodeRequest) => {
    const values = requestValues.get(req) ?? createContextValues();
    requestValues.set(req, values);
    return values;
  };
  const legacy = legacyRoutes({
    service,
    maxBodyBytes: limits.maxBodyBytes,
    contextValues,
    onInternalError,
    ...(callGuard && { callGuard }),
  });
  const adapter = createRpcHandler({
    routes: (router) => {
      router.service(TokenService, service);
      routes(router);
    },
    interceptors: callGuard ? [...interceptors, callGuardInterceptor(callGuard)] : interceptors,
    contextValues,
    readMaxBytes: limits.maxBodyBytes,
    streamingCalls: {
      maxStreamingCalls: limits.maxStreamingCalls,
      maxAgeMs: limits.streamingCallMaxAgeMs,
      closeGraceMs: STREAM_CLOSE_GRACE_MS,
    },
    fallback: (req, res) => {
      if (!legacy(req, res)) sendJson(res, 404, { error: "not found" });
    },
    onInternalError,
  });
  // A preflight names the methods the 405 of the same path would allow.
  const applyCors = createCors({ ...cors, allowedMethodsOf: adapter.allowedMethodsOf });

  // The fast path runs the call guard but no other interceptors: only without them.
  const fastPath =
    interceptors.length === 0
      ? getTokenFastPath({
          service,
          callGuard,
          maxBodyBytes: limits.maxBodyBytes,
          contextValues,
          onInternalError,
        })
      : () => false;

  const handle = (req: NodeRequest, res: NodeResponse) => {
    const values = onRequest(req, res) ?? createContextValues();
    values.set(clientAddressKey, clientAddressOf(req, trustProxy));
    values.set(credentialHeadersKey, () => credentialHeadersOf(req));
    requestValues.set(req, values);
    // Tokens and errors about them are never to be cached by a browser or a proxy.
    res.setHeader("Cache-Control", "no-store");
    try {
      if (applyCors(req, res)) return;
      if (httpRoutes.some((route) => route(req, res))) return;
      if (fastPath(req, res)) return;
      adapter(req, res);
    } catch (error) {
      // A bug must cost one request, never the process.
      onInternalError(error);
      sendJson(res, 500, { error: "internal error" });
    }
  };

  return createOnePortServer({ handle, limits, shutdownTimeoutMs, onInternalError });
}
