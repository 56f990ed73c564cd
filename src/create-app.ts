import type { AddressInfo } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import type { Config } from "./load-config.js";
import { createMetrics, type TokenMetrics } from "./observability/metrics.js";
import { metricsRoute } from "./observability/metrics-route.js";
import { createRequestObserver } from "./observability/request-observer.js";
import { createServer } from "./server/create-server.js";
import { healthRoutes } from "./server/health/health-routes.js";
import { createHealthService } from "./server/health/health-service.js";
import { createReadiness, type Readiness, type ReadinessCheck } from "./server/health/readiness.js";
import type { HttpRoute } from "./server/http/http-route.js";
import { sendJson } from "./server/http/json-response.js";
import { openApiRoute } from "./server/http/openapi-route.js";
import { openApiDocument } from "./server/legacy/openapi-document.js";
import { createPlainHttpServer } from "./server/transport/plain-http-server.js";
import { runShutdownSequence } from "./server/transport/shutdown-sequence.js";
import { createAccessControl } from "./service/create-access-control.js";
import { createTokenService, type TokenServiceOptions } from "./service/create-token-service.js";

export interface AppOptions {
  config: Pick<
    Config,
    | "credentials"
    | "corsAllowOrigin"
    | "limits"
    | "shutdownTimeoutMs"
    | "shutdownDelayMs"
    | "metricsPort"
    | "auth"
    | "rateLimit"
    | "trustProxy"
  >;
  logger: Logger;
  /** Conditions for taking traffic besides "not shutting down" (e.g. "Redis answers"). */
  readinessChecks?: readonly ReadinessCheck[];
  /** More Connect interceptors for every RPC (authentication and rate limits are built in). */
  interceptors?: Interceptor[];
  /** More plain HTTP routes (the token playground), tried after health and metrics. */
  httpRoutes?: readonly HttpRoute[];
  /** Test seams of the token service. */
  tokenService?: Pick<TokenServiceOptions, "clock" | "salt">;
}

export interface App {
  /** Listens on the service port and, when configured, the metrics port. */
  listen(port: number, host?: string): Promise<{ address: AddressInfo; metrics?: AddressInfo }>;
  /** The shutdown sequence: not ready at once, serve for the delay, then close and drain. */
  shutDown(): Promise<void>;
  /** Not ready, then close and drain at once, skipping the delay. */
  close(): Promise<void>;
  readonly readiness: Readiness;
  readonly metrics: TokenMetrics;
}

/**
 * The token service as it runs in production: every protocol on one port with request logs and
 * metrics, `grpc.health.v1.Health`, `/healthz`, `/readyz` and `/metrics` (on its own port when
 * `metricsPort` is set), and the shutdown sequence for load balancers.
 */
export function createApp({
  config,
  logger,
  readinessChecks = [],
  interceptors = [],
  httpRoutes = [],
  tokenService = {},
}: AppOptions): App {
  // Bugs: the caller gets a generic `internal`; the detail goes to the (redacted) log.
  const reportInternalError = (error: unknown) => logger.error({ err: error }, "internal error");
  const metrics = createMetrics();
  const observer = createRequestObserver({ logger, metrics });
  const accessControl = createAccessControl(config, (level, msg, fields = {}) =>
    logger[level](fields, msg),
  );
  const readiness = createReadiness({
    checks: [
      ...readinessChecks,
      ...(config.rateLimit?.redisUrl
        ? [{ name: "redis", check: () => accessControl.isRateLimiterReady() }]
        : []),
    ],
  });
  const service = createTokenService({
    ...tokenService,
    credentials: config.credentials,
    onInternalError: reportInternalError,
  });
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : createMetricsServer(metricsRoute(metrics.registry));
  const server = createServer({
    onInternalError: reportInternalError,
    service: observer.observeService(service),
    cors: { allowOrigin: config.corsAllowOrigin },
    limits: config.limits,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    interceptors,
    callGuard: accessControl.callGuard,
    trustProxy: config.trustProxy,
    onRequest: observer.onRequest,
    routes: (router) => router.service(Health, createHealthService({ readiness })),
    httpRoutes: [
      ...healthRoutes(readiness),
      ...(metricsServer ? [] : [metricsRoute(metrics.registry)]),
      openApiRoute(openApiDocument()),
      ...httpRoutes,
    ],
  });

  const close = async () => {
    readiness.beginShutdown();
    await server.close();
    await metricsServer?.close();
    await accessControl.close();
  };
  let shuttingDown: Promise<void> | undefined;
  return {
    readiness,
    metrics,
    async listen(port, host) {
      const address = await server.listen(port, host);
      if (metricsServer === undefined || config.metricsPort === undefined) return { address };
      return { address, metrics: await metricsServer.listen(config.metricsPort, host) };
    },
    shutDown() {
      shuttingDown ??= runShutdownSequence({
        readiness,
        delayMs: config.shutdownDelayMs,
        close,
        onPhase: (phase) => {
          if (phase === "unready") {
            logger.info(`not ready: serving for ${config.shutdownDelayMs} ms more, then draining`);
          } else if (phase === "draining") {
            logger.info("listener closed: draining requests in flight");
          }
        },
      });
      return shuttingDown;
    },
    close,
  };
}

/** A server answering only `GET /metrics`, for `METRICS_PORT`. */
function createMetricsServer(route: HttpRoute) {
  return createPlainHttpServer((req, res) => {
    if (!route(req, res)) sendJson(res, 404, { error: "not found" });
  });
}
