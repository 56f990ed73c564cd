import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { ListenerLimits } from "./one-port-server.js";

/**
 * Node's HTTP/1.1 server options for `limits`. Node checks `headersTimeout` and `requestTimeout`
 * only every `connectionsCheckingInterval` (30 s by default), so the check runs often enough for
 * the timeouts to mean what they say.
 */
export function http1ServerOptions(limits: ListenerLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)),
    ),
    // Larger headers are answered 431 and the connection is closed.
    maxHeaderSize: limits.maxHeaderBytes,
  };
}

/**
 * Node's HTTP/2 session options for `limits`. A peer over a limit gets its stream refused or reset
 * (ENHANCE_YOUR_CALM, which gRPC clients read as RESOURCE_EXHAUSTED) or its session closed.
 * nghttp2 also rate-limits RST_STREAM floods ("rapid reset") by itself; Node 20 does not expose
 * that setting.
 */
export function http2ServerOptions(limits: ListenerLimits): http2.ServerOptions {
  return {
    settings: {
      maxConcurrentStreams: limits.http2MaxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
    },
    maxSessionMemory: limits.http2MaxSessionMemoryMb,
    maxSettings: limits.http2MaxSettings,
    maxOutstandingPings: limits.http2MaxOutstandingPings,
    maxSessionInvalidFrames: limits.http2MaxInvalidFrames,
    maxSessionRejectedStreams: limits.http2MaxRejectedStreams,
  };
}
