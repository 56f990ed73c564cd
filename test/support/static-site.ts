import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { PlaygroundAssets } from "../../src/server/http/playground-route.js";

export interface StaticSite {
  origin: string;
  close(): Promise<void>;
}

/**
 * A second, unrelated web server on its own loopback port (so its own origin) that hosts the
 * playground's files, as a front end hosted elsewhere would. It knows nothing of the service.
 */
export async function startStaticSite(assets: PlaygroundAssets): Promise<StaticSite> {
  const files = new Map([
    ["/", { body: assets.html, type: "text/html; charset=utf-8" }],
    ["/playground/main.js", { body: assets.script, type: "text/javascript; charset=utf-8" }],
    ["/playground/main.css", { body: assets.style, type: "text/css; charset=utf-8" }],
  ]);
  const server: Server = createServer((req, res) => {
    const file = files.get((req.url ?? "/").split("?", 1)[0] ?? "/");
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": file.type }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
