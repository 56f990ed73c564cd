import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import {
  type ConnectRouter,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { type CallGuard, callGuardInterceptor } from "../service/call-guard.js";
import { clientAddressKey, clientAddressOf, type TrustProxy } from "./http/client-address.js";
import { type CorsOptions, createCors } from "./http/cors.js";
import { credentialHeadersKey, credentialHeadersOf } from "./http/credential-headers.js";
import { sendJson } from "./http/json-response.js";
import type { NodeRequest, NodeResponse } from "./http/node-types.js";
import { legacyRoutes } from "./legacy/legacy-routes.js";
import { getTokenFastPath } from "./rpc/get-token-fast-path.js";
import { createRpcHandler } from "./rpc/rpc-handler.js";
import { enforceHttp2Timeouts } from "./transport/http2-timeouts.js";
import { http1ServerOptions, http2ServerOptions } from "./transport/node-server-options.js";
import { createOnePortListener } from "./transport/one-port-listener.js";

export interface ServerLimits {
  /**
   * Largest request body or RPC message accepted, in bytes, before and after decompression. The
   * default leaves room for the largest token InspectToken reads (16384 characters) in any
   * encoding.
   */
  maxBodyBytes: number;
  /** Time for a client to send the request headers (and to show its protocol), in ms. */
  headersTimeoutMs: number;
  /** Time for a client to send a whole HTTP/1.1 request, in ms. */
  requestTimeoutMs: number;
  /** How long an idle HTTP/1.1 keep-alive connection stays open, in ms. */
  keepAliveTimeoutMs: number;
  /** Largest request header block (HTTP/1.1 → 431; HTTP/2 → stream reset), in bytes. */
  maxHeaderBytes: number;
  /** Most TCP connections open at once; further ones are closed as soon as they are accepted. */
  maxConnections: number;
  /** Most streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: number;
  /** Memory one HTTP/2 session may use before new streams are refused, in MiB. */
  http2MaxSessionMemoryMb: number;
  /** Most entries in one HTTP/2 SETTINGS frame. */
  http2MaxSettings: number;
  /** Most unanswered HTTP/2 PINGs before the session is closed. */
  http2MaxOutstandingPings: number;
  /** Invalid HTTP/2 frames tolerated before the session is closed. */
  http2MaxInvalidFrames: number;
  /** Refused HTTP/2 streams tolerated before the session is closed (reset floods). */
  http2MaxRejectedStreams: number;
  /** How long an HTTP/2 connection without open streams stays open, in ms. */
  http2IdleTimeoutMs: number;
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

/** How long a stream ended at its maximum age may take to close before it is cut, in ms. */
const STREAM_CLOSE_GRACE_MS = 5_000;

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

/** Answers a request and returns true, or returns false to let the next route try. */
export type HttpRoute = (req: NodeRequest, res: NodeResponse) => boolean;

export interface TokenServer {
  /** Starts listening; port 0 picks a free port. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, lets requests in flight finish (up to the shutdown timeout),
   * closes idle connections, and resolves once every connection is closed.
   */
  close(): Promise<void>;
}

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

  let draining = false;
  /** Set when the drain's grace period ends: from then on, idle connections are closed at once. */
  let graceOver = false;
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

  const http1Server = http.createServer(http1ServerOptions(limits), handle);
  const http2Server = http2.createServer(http2ServerOptions(limits), (req, res) => {
    discardUnreadRequestOnEnd(req, res);
    handle(req, res);
  });
  enforceHttp2Timeouts(http2Server, {
    headersTimeoutMs: limits.headersTimeoutMs,
    idleTimeoutMs: limits.http2IdleTimeoutMs,
    requestTimeoutMs: limits.requestTimeoutMs,
  });
  const listener = createOnePortListener({
    http1: http1Server,
    http2: http2Server,
    sniffTimeoutMs: limits.headersTimeoutMs,
    maxConnections: limits.maxConnections,
  });

  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  listener.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (draining) session.close();
  });
  // HTTP/1.1 responses in flight: during the drain they say "Connection: close", and the
  // keep-alive connection each leaves idle is closed.
  const http1Responses = new Set<http.ServerResponse>();
  http1Server.on("request", (_req, res: http.ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    http1Responses.add(res);
    res.once("close", () => http1Responses.delete(res));
    res.once("finish", () => {
      if (graceOver) setImmediate(() => http1Server.closeIdleConnections());
    });
  });

  let closing: Promise<void> | undefined;
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const { server } = listener;
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          // After listening, an error is a failed accept (EMFILE): report it, keep serving.
          server.on("error", onInternalError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= drain();
      return closing;
    },
  };

  /**
   * Closing an idle HTTP/1.1 keep-alive connection races with the request a client may be
   * sending on it right then, which is lost (HTTP/1.1 has no GOAWAY). So for a grace period,
   * HTTP/1.1 connections already open still take requests, each answered with
   * "Connection: close"; only then are the idle ones closed. HTTP/2 sessions get their GOAWAY at
   * once: a stream in flight then is refused (REFUSED_STREAM, safe to retry), and Node offers no
   * shutdown notice (a first GOAWAY that still accepts streams) to avoid that.
   */
  async function drain(): Promise<void> {
    draining = true;
    const stopped = closeListener(listener.server);
    for (const res of http1Responses) if (!res.headersSent) res.shouldKeepAlive = false;
    for (const session of sessions) session.close();
    const deadline = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, shutdownTimeoutMs);
    await graceOrAllClosed(sockets, Math.min(DRAIN_GRACE_MS, shutdownTimeoutMs));
    graceOver = true;
    listener.closeUnsniffed();
    http1Server.closeIdleConnections();
    await Promise.all([stopped, allClosed(sockets)]);
    clearTimeout(deadline);
  }
}

/** How long open HTTP/1.1 connections may still send requests once a shutdown began, in ms. */
const DRAIN_GRACE_MS = 500;

function graceOrAllClosed(sockets: Set<Socket>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    allClosed(sockets).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The most of an unwanted HTTP/2 request body read and discarded before the stream is reset. */
const MAX_DISCARDED_BYTES = 1024 * 1024;

/**
 * An answer sent before the whole request arrived (a message over the limit: Connect stops
 * reading) leaves the client's half of the stream unread, and Node then never ends the response:
 * the gRPC trailers are not sent and the stream, and a graceful close of its session, wait
 * forever. So once the answer is queued, read and discard the rest of the request; reset the
 * stream if the client sends far more.
 */
function discardUnreadRequestOnEnd(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): void {
  const end = res.end.bind(res) as (...args: unknown[]) => http2.Http2ServerResponse;
  res.end = ((...args: unknown[]) => {
    const result = end(...args);
    if (!req.complete) discard(req.stream);
    return result;
  }) as typeof res.end;
}

function discard(stream: http2.ServerHttp2Stream): void {
  let discarded = 0;
  const onReadable = () => {
    for (let chunk: Buffer | null = stream.read(); chunk !== null; chunk = stream.read()) {
      discarded += chunk.length;
      if (discarded > MAX_DISCARDED_BYTES) {
        stream.off("readable", onReadable);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
    }
  };
  stream.on("readable", onReadable);
}

function closeListener(listener: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!listener.listening) resolve();
    else listener.close(() => resolve());
  });
}

async function allClosed(sockets: Set<Socket>): Promise<void> {
  while (sockets.size > 0) {
    const [socket] = sockets;
    if (socket) await new Promise((resolve) => socket.once("close", resolve));
  }
}
