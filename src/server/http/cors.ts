import { cors as connectCors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./node-types.js";

/** `"*"`: every origin; a list: exactly those origins; empty list: no cross-origin access. */
export type CorsAllowOrigin = "*" | readonly string[];

export interface CorsOptions {
  allowOrigin: CorsAllowOrigin;
  /** Extra request headers browsers may send, beyond Connect's and gRPC-Web's. */
  allowedHeaders?: readonly string[];
  /** How long browsers may cache a preflight, in seconds. */
  maxAgeSeconds?: number;
  /**
   * The methods a path accepts, when known (an RPC's: POST, and GET for side-effect-free ones),
   * so that a preflight and a 405's `Allow` agree; otherwise Connect's and gRPC-Web's.
   */
  allowedMethodsOf?: (path: string) => readonly string[] | undefined;
}

/**
 * Applies the CORS policy to one request. Returns true when it answered the request itself (a
 * preflight). Requests without `Origin` are none of its business and always go on.
 */
export function createCors({
  allowOrigin,
  allowedHeaders = ["Authorization", "X-API-Key", "X-Request-Id"],
  maxAgeSeconds = 7200,
  allowedMethodsOf = () => undefined,
}: CorsOptions): (req: NodeRequest, res: NodeResponse) => boolean {
  const allowed = allowOrigin === "*" ? undefined : new Set(allowOrigin);
  const allowHeaders = [...connectCors.allowedHeaders, ...allowedHeaders].join(", ");
  const allowMethods = connectCors.allowedMethods.join(", ");
  // Retry-After (429) and WWW-Authenticate (401) tell a web page when to retry and how to log in;
  // X-Request-Id lets it quote the request to whoever reads the logs.
  const exposeHeaders = [
    ...connectCors.exposedHeaders,
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-Id",
  ].join(", ");

  return (req, res) => {
    const origin = req.headers.origin;
    const isPreflight =
      req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (origin === undefined) return false;
    res.setHeader("Vary", "Origin");
    const isAllowed = allowed === undefined || allowed.has(origin);
    if (isAllowed) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      if (!isPreflight) res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
    }
    if (!isPreflight) return false;
    if (isAllowed) {
      const path = (req.url ?? "").split("?", 1)[0] ?? "";
      res.setHeader(
        "Access-Control-Allow-Methods",
        allowedMethodsOf(path)?.join(", ") ?? allowMethods,
      );
      res.setHeader("Access-Control-Allow-Headers", allowHeaders);
      res.setHeader("Access-Control-Max-Age", String(maxAgeSeconds));
    }
    res.writeHead(204);
    res.end();
    return true;
  };
}
