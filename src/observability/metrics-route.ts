import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { HttpRoute } from "../server/create-server.js";
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

export interface MetricsServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** A plain HTTP/1.1 server answering only `GET /metrics`, for a port kept off the public one. */
export function createMetricsServer(registry: Registry): MetricsServer {
  const route = metricsRoute(registry);
  const server = http.createServer((req, res) => {
    if (!route(req, res)) sendJson(res, 404, { error: "not found" });
  });
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) resolve();
        else server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
