import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";

/**
 * What a request was for. `token`: a `TokenService` RPC on any protocol, or a legacy token
 * route (`POST /getToken`, `/inspectToken`, `GET /rtc/…`…). The rest are the service's other
 * endpoints; `other` is anything else (the playground's files, unknown paths).
 */
export type Endpoint =
  | "token"
  | "healthz"
  | "readyz"
  | "grpc_health"
  | "metrics"
  | "openapi"
  | "ping"
  | "cors_preflight"
  | "other";

const TOKEN_SERVICE_PREFIX = `/${TokenService.typeName}/`;
const HEALTH_PREFIX = `/${Health.typeName}/`;
const PLAIN: Record<string, Endpoint> = {
  "/healthz": "healthz",
  "/readyz": "readyz",
  "/metrics": "metrics",
  "/openapi.json": "openapi",
};

/**
 * The endpoint of a request, from its method, path and the legacy route pattern it matched
 * (known once the request has been routed). A bounded set, so it can be a metric label.
 */
export function endpointOf(
  method: string | undefined,
  path: string,
  legacyRoute: string | undefined,
): Endpoint {
  if (method === "OPTIONS") return "cors_preflight";
  if (path.startsWith(TOKEN_SERVICE_PREFIX)) return "token";
  if (legacyRoute !== undefined) return legacyRoute === "/ping" ? "ping" : "token";
  if (path.startsWith(HEALTH_PREFIX)) return "grpc_health";
  return Object.hasOwn(PLAIN, path) ? (PLAIN[path] as Endpoint) : "other";
}
