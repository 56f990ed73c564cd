import * as http2 from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import type { Logger } from "pino";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createLogger } from "../observability/logger.js";
import { createMetrics, type TokenMetrics } from "../observability/metrics.js";
import { createRequestObserver } from "../observability/request-observer.js";
import {
  callGuardInterceptor,
  clientAddressKey,
  credentialHeadersKey,
} from "../service/call-guard.js";
import { createAccessControl } from "../service/create-access-control.js";
import { createTokenService } from "../service/create-token-service.js";
import { healthRoutes } from "./health/health-routes.js";
import { createHealthService } from "./health/health-service.js";
import { createReadiness, type Readiness, type ReadinessCheck } from "./health/readiness.js";
import { clientAddressOf } from "./http/client-address.js";
import { createCors } from "./http/cors.js";
import { credentialHeadersOf } from "./http/credential-headers.js";
import { discardUnreadRequestOnEnd } from "./http/discard-unread-request.js";
import { sendJson } from "./http/json-response.js";
import type { NodeRequest, NodeResponse } from "./http/node-types.js";
import { legacyRoutes } from "./legacy/legacy-routes.js";
import { openApiDocument } from "./legacy/openapi-document.js";
import {
  checkedHandler,
  cutCallKey,
  rejectRefused,
  reportInternalErrors,
} from "./rpc/checked-handler.js";
import { endCallOnAbort } from "./rpc/end-call-on-abort.js";
import { sendRpcError } from "./rpc/rpc-handler.js";
import {
  compressMinBytes,
  rpcBinaryOptions,
  rpcCompressions,
  rpcJsonOptions,
} from "./rpc/rpc-options.js";
import { RPC_PATH } from "./rpc/rpc-wire.js";
import { createStreamingCalls, STREAM_CLOSE_GRACE_MS } from "./rpc/streaming-calls.js";
import { checkTokenRoutesSettings, type TokenRoutesSettings } from "./token-routes-options.js";

export interface TokenRoutesOptions extends TokenRoutesSettings {
  /**
   * Where request logs, refusals and start-up notes go (a pino logger, e.g. Fastify's
   * `app.log`). Default: JSON lines on stdout with the App Certificate redacted.
   */
  logger?: Pick<Logger, "info" | "warn" | "error" | "debug"> | undefined;
  /** Receives bugs that callers only see as a generic `internal`. Default: `logger.error`. */
  onInternalError?: ((error: unknown) => void) | undefined;
  /** Conditions for `/readyz` and gRPC health besides "not closed" (Redis is one by itself). */
  readinessChecks?: readonly ReadinessCheck[] | undefined;
}

/** A request as connect-express (the Node request itself) and connect-fastify (`.raw`) hand it over. */
export type AdapterRequest = NodeRequest | { raw: NodeRequest };

/**
 * What `expressConnectMiddleware()` and `fastifyConnectPlugin` take: the routes of
 * `TokenService` and `grpc.health.v1.Health` with the service's request-message rules, call
 * guard and stream bounds, and its limits, compressions and JSON rules.
 */
export interface TokenConnectOptions {
  /** Registers the two services; call it from your own `routes` to serve yours beside them. */
  routes(router: ConnectRouter): void;
  /** Apply only to the services above; keep them in front of your own interceptors. */
  interceptors: Interceptor[];
  contextValues(req: AdapterRequest): ContextValues;
  readMaxBytes: number;
  /** gzip only: brotli's decoding cost has no bound in the message size. */
  acceptCompression: Compression[];
  compressMinBytes: number;
  jsonOptions: typeof rpcJsonOptions;
  binaryOptions: typeof rpcBinaryOptions;
}

/** The parts of a Fastify request and reply the `onRequest` hook uses. */
export interface FastifyHookRequest {
  raw: NodeRequest;
}
export interface FastifyHookReply {
  raw: NodeResponse;
  hijack(): unknown;
}

export interface TokenRoutes {
  /** For `expressConnectMiddleware(tokens.connect)` or `register(fastifyConnectPlugin, tokens.connect)`. */
  readonly connect: TokenConnectOptions;
  /**
   * Express (or any Node `(req, res, next)` host): mount before the Connect middleware and before
   * any body parser. Answers CORS for the token routes, the legacy routes (`POST /getToken`, the
   * GET routes, `POST /inspectToken`), `/healthz` and `/readyz`, and an unknown method of the
   * two services; starts the request log and metrics of the RPCs; calls `next()` for the rest.
   */
  middleware(req: NodeRequest, res: NodeResponse, next: (error?: unknown) => void): void;
  /** Fastify: the same as an `onRequest` hook (`app.addHook("onRequest", tokens.fastifyOnRequest)`). */
  fastifyOnRequest(
    request: FastifyHookRequest,
    reply: FastifyHookReply,
    done: (error?: Error) => void,
  ): void;
  readonly readiness: Readiness;
  /** The Prometheus metrics of the token routes, in a registry of their own (serve or merge it). */
  readonly metrics: TokenMetrics;
  /**
   * The OpenAPI 3.1 document of the legacy routes and the Connect JSON RPCs, as the standalone
   * service serves it at `/openapi.json`: serve it where you like, or merge it into yours.
   */
  readonly openApi: Record<string, unknown>;
  /** Turns `/readyz` and gRPC health unready for good and closes the Redis connection, if any. */
  close(): Promise<void>;
}

const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

/**
 * The token service for a backend that already runs Express or Fastify: the same `TokenService`
 * with its validation, authentication, authorization and rate limits, the legacy routes and the
 * health endpoints as the standalone server, configured from `options` (never the environment).
 * Throws a `ConfigError` naming every option that is wrong. Opens no port: the host's serves it.
 */
export function createTokenRoutes(options: TokenRoutesOptions): TokenRoutes {
  const settings = checkTokenRoutesSettings(options, [
    "logger",
    "onInternalError",
    "readinessChecks",
  ]);
  const { credentials, limits, trustProxy } = settings;
  const logger =
    options.logger ??
    createLogger({
      secrets: [credentials.appCertificate, credentials.secondaryAppCertificate ?? ""],
    });
  const onInternalError =
    options.onInternalError ?? ((error: unknown) => logger.error({ err: error }, "internal error"));
  const metrics = createMetrics({ processMetrics: false });
  const observer = createRequestObserver({ logger, metrics });
  const accessControl = createAccessControl(settings, (level, msg, fields = {}) =>
    logger[level](fields, msg),
  );
  const readiness = createReadiness({
    checks: [
      ...(options.readinessChecks ?? []),
      ...(settings.rateLimit?.redisUrl
        ? [{ name: "redis", check: () => accessControl.isRateLimiterReady() }]
        : []),
    ],
  });
  const { callGuard } = accessControl;
  const service = observer.observeService(createTokenService({ credentials, onInternalError }));
  const healthService = createHealthService({ readiness });
  const streamingCalls = createStreamingCalls({
    maxStreamingCalls: limits.maxStreamingCalls,
    maxAgeMs: limits.streamingCallMaxAgeMs,
    closeGraceMs: STREAM_CLOSE_GRACE_MS,
  });
  const register = (router: ConnectRouter) => {
    router.service(TokenService, service);
    router.service(Health, healthService);
  };
  const services: readonly DescService[] = [TokenService, Health];
  const serviceNames = new Set(services.map((desc) => desc.typeName));
  // The methods each RPC path accepts, for preflights, as Connect's handlers will say them.
  const methodsRouter = createConnectRouter();
  register(methodsRouter);
  const allowedMethods = new Map(
    methodsRouter.handlers.map((handler) => [handler.requestPath, handler.allowedMethods]),
  );

  const requestValues = new WeakMap<NodeRequest, ContextValues>();
  /** The values every call of a request carries, made once per request. */
  const valuesOf = (req: NodeRequest, res?: NodeResponse): ContextValues => {
    let values = requestValues.get(req);
    if (values !== undefined) return values;
    values = res ? observer.onRequest(req, res) : createContextValues();
    values.set(clientAddressKey, clientAddressOf(req, trustProxy));
    values.set(credentialHeadersKey, () => credentialHeadersOf(req));
    values.set(cutCallKey, () => cut(req));
    requestValues.set(req, values);
    return values;
  };
  const legacy = legacyRoutes({
    service,
    maxBodyBytes: limits.maxBodyBytes,
    callGuard,
    contextValues: (req) => valuesOf(req),
    onInternalError,
  });
  const health = healthRoutes(readiness);
  const applyCors = createCors({
    allowOrigin: settings.corsAllowOrigin,
    allowedMethodsOf: (path) => allowedMethods.get(path),
  });

  /** True when this answered (or will answer) the request; false for the host to serve it. */
  const serve = (req: NodeRequest, res: NodeResponse): boolean => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const rpc = allowedMethods.has(path);
    const unknownMethod = !rpc && serviceNames.has(RPC_PATH.exec(path)?.[1] ?? "");
    if (!rpc && !unknownMethod && !HEALTH_PATHS.has(path) && !legacy.matches(path)) return false;
    try {
      valuesOf(req, res);
      // Tokens and errors about them are never to be cached by a browser or a proxy.
      res.setHeader("Cache-Control", "no-store");
      if ("stream" in req && "stream" in res) {
        discardUnreadRequestOnEnd(req, res as unknown as http2.Http2ServerResponse);
      }
      if (applyCors(req, res)) return true;
      if (rpc) {
        if (req.httpVersionMajor === 2 || req.headers.host) return false;
        // connect-node cannot make a URL of it, and would throw out of the host's handler.
        sendJson(res, 400, { error: "the request must name a valid host in Host or :authority" });
        return true;
      }
      if (unknownMethod) {
        const [, serviceName, method] = RPC_PATH.exec(path) ?? [];
        const error = new ConnectError(
          `${serviceName} has no method ${method}`,
          Code.Unimplemented,
        );
        sendRpcError(req, res, error, onInternalError);
        return true;
      }
      if (health.some((route) => route(req, res))) return true;
      if (req.method === "POST" && bodyAlreadyRead(req)) {
        onInternalError(
          new Error(
            `${path}: a body parser read the request before the token routes: mount them first`,
          ),
        );
        sendJson(res, 500, { error: "internal error" });
        return true;
      }
      return legacy(req, res);
    } catch (error) {
      // A bug must cost one request, never the process.
      onInternalError(error);
      sendJson(res, 500, { error: "internal error" });
      return true;
    }
  };

  /** Our interceptors leave a host's own services on the same router alone. */
  const ours =
    (interceptor: Interceptor): Interceptor =>
    (next) => {
      const intercepted = interceptor(next);
      return (req) => (serviceNames.has(req.service.typeName) ? intercepted(req) : next(req));
    };

  return {
    connect: {
      routes(router) {
        const first = router.handlers.length;
        register(router);
        for (let index = first; index < router.handlers.length; index++) {
          const handler = router.handlers[index];
          if (handler !== undefined) {
            router.handlers[index] = checkedHandler(handler, {
              readMaxBytes: limits.maxBodyBytes,
              streamingCalls,
            });
          }
        }
      },
      interceptors: [
        reportInternalErrors(onInternalError),
        rejectRefused,
        endCallOnAbort,
        callGuardInterceptor(callGuard),
      ].map(ours),
      contextValues: (req) => valuesOf("raw" in req ? req.raw : req),
      readMaxBytes: limits.maxBodyBytes,
      acceptCompression: [...rpcCompressions],
      compressMinBytes,
      jsonOptions: rpcJsonOptions,
      binaryOptions: rpcBinaryOptions,
    },
    middleware(req, res, next) {
      if (!serve(req, res)) next();
    },
    fastifyOnRequest(request, reply, done) {
      if (serve(request.raw, reply.raw)) reply.hijack();
      else done();
    },
    readiness,
    metrics,
    openApi: openApiDocument(),
    async close() {
      readiness.beginShutdown();
      await accessControl.close();
    },
  };
}

/** Ends the call's HTTP/2 stream, or its HTTP/1.1 connection (which a streaming call holds). */
function cut(req: NodeRequest): void {
  if ("stream" in req) {
    if (!req.stream.closed) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  } else if (!req.socket.destroyed) {
    req.socket.destroy();
  }
}

/** Whether a host's body parser has already read the request (Express's sets `body`). */
function bodyAlreadyRead(req: NodeRequest): boolean {
  return req.readableEnded || (req as { body?: unknown }).body !== undefined;
}
