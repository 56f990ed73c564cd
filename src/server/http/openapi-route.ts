import type { HttpRoute } from "./http-route.js";
import { sendJson } from "./json-response.js";

/**
 * `GET /openapi.json`: an OpenAPI document, open without credentials like `/healthz`. Written
 * once, indented, so that `curl … | head` shows where it starts.
 */
export function openApiRoute(document: object): HttpRoute {
  const body = Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
  return (req, res) => {
    if ((req.url ?? "/").split("?", 1)[0] !== "/openapi.json") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      sendJson(res, 405, { error: "method not allowed; use GET, HEAD" });
      return true;
    }
    res.writeHead(200, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": body.length,
    });
    if (req.method === "HEAD") res.end();
    else res.end(body);
    return true;
  };
}
