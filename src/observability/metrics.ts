import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

type RequestLabel = "protocol" | "token_kind" | "code";
type OtherRequestLabel = "protocol" | "endpoint" | "code";

export interface TokenMetrics {
  /** This server's own registry (not prom-client's global one), so servers can share a process. */
  readonly registry: Registry;
  /** Token requests only: `TokenService` RPCs and the legacy token routes. */
  readonly requests: Counter<RequestLabel>;
  readonly requestDuration: Histogram<RequestLabel>;
  /** Every other request: health, readiness, gRPC health, scrapes, `/ping`, preflights… */
  readonly otherRequests: Counter<OtherRequestLabel>;
  readonly mintDuration: Histogram<"token_kind">;
  readonly requestsInFlight: Gauge<"protocol">;
}

export interface MetricsOptions {
  /** Adds prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC). */
  processMetrics?: boolean;
}

/**
 * The service's Prometheus metrics in a new registry. Labels: `protocol` (grpc, grpc-web,
 * connect, legacy, http), `token_kind` (rtc, rtm, chat, rtc+rtm, none), `endpoint` (see
 * `endpointOf`) and `code` (the Connect code in snake_case, `ok` on success).
 */
export function createMetrics({ processMetrics = true }: MetricsOptions = {}): TokenMetrics {
  const registry = new Registry();
  const labelNames = ["protocol", "token_kind", "code"] as const;
  const metrics: TokenMetrics = {
    registry,
    requests: new Counter({
      name: "agora_token_requests_total",
      help: "Token requests (TokenService RPCs, legacy token routes) answered, by protocol, kind of token asked for, and result code.",
      labelNames,
      registers: [registry],
    }),
    otherRequests: new Counter({
      name: "agora_token_other_requests_total",
      help: "Requests that ask for no token (health, readiness, gRPC health, metrics, ping, CORS preflights, other paths), by protocol, endpoint and result code.",
      labelNames: ["protocol", "endpoint", "code"],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "agora_token_request_duration_seconds",
      help: "Time from receiving a token request to finishing its response.",
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    mintDuration: new Histogram({
      name: "agora_token_mint_duration_seconds",
      help: "Time to validate and sign one token (successful mints only).",
      labelNames: ["token_kind"],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers: [registry],
    }),
    requestsInFlight: new Gauge({
      name: "agora_token_requests_in_flight",
      help: "Requests of any kind (token or other, open gRPC health Watch streams too) received whose response has not finished yet.",
      labelNames: ["protocol"],
      registers: [registry],
    }),
  };
  if (processMetrics) collectDefaultMetrics({ register: registry });
  return metrics;
}
