import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { Logger } from "pino";
import type { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { describeCaller } from "../auth/caller.js";
import type { NodeRequest, NodeResponse } from "../server/http/node-types.js";
import { routePatternKey } from "../server/http/route-pattern.js";
import { callerKey } from "../service/call-guard.js";
import { endpointOf } from "./endpoint-of.js";
import type { TokenMetrics } from "./metrics.js";
import { protocolOf } from "./protocol-of.js";
import { watchResponseCode } from "./response-code.js";

/** What the service learns about a request while answering it. */
interface RequestRecord {
  /** The kinds of token asked for: one for GetToken, two for the legacy `GET /rte/…`. */
  tokenKinds: Set<string>;
}

const requestRecordKey = createContextKey<RequestRecord | undefined>(undefined, {
  description: "request record for logs and metrics",
});

/** A client's `X-Request-Id` is kept when it is this plain; otherwise a new one is made. */
const CLIENT_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;
const MAX_LOGGED_PATH = 200;

export interface RequestObserverOptions {
  /** A pino logger, or any with its `info`, `debug` and `error` (Fastify's `app.log`). */
  logger: Pick<Logger, "info" | "debug" | "error">;
  metrics: TokenMetrics;
  /** Paths of the operational endpoints: protocol `http`, logged at debug level. */
  opsPaths?: readonly string[];
  newRequestId?: () => string;
}

export interface RequestObserver {
  /** For `createServer({ onRequest })`: starts observing one request. */
  onRequest(req: NodeRequest, res: NodeResponse): ContextValues;
  /** The service with each call's token kind noted for the logs and its mint time measured. */
  observeService(service: ServiceImpl<typeof TokenService>): ServiceImpl<typeof TokenService>;
}

/**
 * One log line and one set of metrics per request, on every protocol: request id (the client's
 * `X-Request-Id` or a new one, echoed back), protocol, route, token kind, caller, HTTP status,
 * result code and latency. Never a token, credential or header value other than the request id.
 */
export function createRequestObserver({
  logger,
  metrics,
  opsPaths = ["/healthz", "/readyz", "/metrics", "/openapi.json"],
  newRequestId = randomUUID,
}: RequestObserverOptions): RequestObserver {
  const ops = new Set(opsPaths);
  return {
    onRequest(req, res) {
      const startedAt = performance.now();
      const clientId = req.headers["x-request-id"];
      const requestId =
        typeof clientId === "string" && CLIENT_REQUEST_ID.test(clientId)
          ? clientId
          : newRequestId();
      res.setHeader("X-Request-Id", requestId);
      const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
      const protocol = protocolOf(req, path, ops);
      const record: RequestRecord = { tokenKinds: new Set() };
      const values = createContextValues().set(requestRecordKey, record);
      const codeOf = watchResponseCode(protocol, res);
      metrics.requestsInFlight.inc({ protocol });

      let done = false;
      const finish = (completed: boolean) => {
        if (done) return;
        done = true;
        const seconds = (performance.now() - startedAt) / 1000;
        const code = completed ? codeOf() : "canceled";
        const tokenKind = [...record.tokenKinds].sort().join("+") || "none";
        const legacyRoute = values.get(routePatternKey);
        metrics.requestsInFlight.dec({ protocol });
        const endpoint = endpointOf(req.method, path, legacyRoute);
        if (endpoint === "token") {
          const labels = { protocol, token_kind: tokenKind, code };
          metrics.requests.inc(labels);
          metrics.requestDuration.observe(labels, seconds);
        } else {
          metrics.otherRequests.inc({ protocol, endpoint, code });
        }

        const route = legacyRoute ?? path.slice(0, MAX_LOGGED_PATH);
        const callerOfRequest = values.get(callerKey);
        // Anonymous callers (open mode) are not named: the address is no caller name.
        const caller =
          callerOfRequest && callerOfRequest.kind !== "anonymous"
            ? describeCaller(callerOfRequest)
            : undefined;
        const line = {
          requestId,
          protocol,
          httpMethod: req.method,
          route,
          tokenKind,
          ...(caller !== undefined && { caller }),
          status: res.headersSent ? res.statusCode : undefined,
          code,
          latencyMs: Math.round(seconds * 1e6) / 1e3,
        };
        if (code === "internal" || code === "unknown" || code === "data_loss") {
          logger.error(line, "request");
        } else if (protocol === "http" || route.startsWith("/grpc.health.v1.Health/")) {
          logger.debug(line, "request");
        } else {
          logger.info(line, "request");
        }
      };
      res.once("finish", () => finish(true));
      res.once("close", () => finish(false));
      return values;
    },

    observeService(service) {
      return {
        ...service,
        async getToken(request, context) {
          const kind = request.request.case;
          if (kind !== undefined) context.values.get(requestRecordKey)?.tokenKinds.add(kind);
          const startedAt = performance.now();
          const response = await service.getToken(request, context);
          const seconds = (performance.now() - startedAt) / 1000;
          metrics.mintDuration.observe({ token_kind: kind ?? "none" }, seconds);
          return response;
        },
      };
    },
  };
}
