import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";

export interface PlainHttpServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** A plain HTTP/1.1 server on a port of its own (`METRICS_PORT`, kept off the public one). */
export function createPlainHttpServer(
  handle: (req: NodeRequest, res: NodeResponse) => void,
): PlainHttpServer {
  const server = http.createServer(handle);
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
