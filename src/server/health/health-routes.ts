import type { HttpRoute } from "../http/http-route.js";
import { sendJson } from "../http/json-response.js";
import type { Readiness } from "./readiness.js";

/**
 * `GET /healthz` (live: the process answers; 200 even while shutting down, so that it is not
 * restarted mid-drain) and `GET /readyz` (200 when ready for traffic, else 503 with the reasons).
 */
export function healthRoutes(readiness: Readiness): HttpRoute[] {
  return [
    (req, res) => {
      if (!isGet(req.method) || pathOf(req.url) !== "/healthz") return false;
      sendJson(res, 200, { status: "live" });
      return true;
    },
    (req, res) => {
      if (!isGet(req.method) || pathOf(req.url) !== "/readyz") return false;
      readiness.check().then((result) => {
        if (result.kind === "ready") sendJson(res, 200, { status: "ready" });
        else sendJson(res, 503, { status: "not ready", reasons: result.reasons });
      });
      return true;
    },
  ];
}

function isGet(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD";
}

function pathOf(url: string | undefined): string {
  return (url ?? "/").split("?", 1)[0] ?? "/";
}
