import type { Registry } from "prom-client";
import type { HttpRoute } from "../server/http/http-route.js";
import { sendJson } from "../server/http/json-response.js";

/** `GET /metrics`: the registry in Prometheus' text format. */
export function metricsRoute(registry: Registry): HttpRoute {
  return (req, res) => {
    if ((req.url ?? "/").split("?", 1)[0] !== "/metrics") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      sendJson(res, 405, { error: "method not allowed; use GET, HEAD" });
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(text);
      },
      () => sendJson(res, 500, { error: "metrics could not be collected" }),
    );
    return true;
  };
}
