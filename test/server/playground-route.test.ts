import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlaygroundAssets, playgroundRoute } from "../../src/server/http/playground-route.js";
import { SAMPLE } from "../support/decode-token.js";
import { spawnService } from "../support/spawn-service.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;

beforeAll(async () => {
  const assets = loadPlaygroundAssets();
  if (!assets) throw new Error("the playground is not built (the global setup builds it)");
  server = await startTestServer({ httpRoutes: [playgroundRoute(assets)] });
});

afterAll(() => server.close());

describe("playgroundRoute()", () => {
  it("serves the page at / with a policy that only loads its own script and style", async () => {
    const response = await fetch(`${server.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    // Calls go to its own origin only: typed credentials cannot be sent where a link points.
    expect(policy).toContain("connect-src 'self';");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await response.text();
    expect(html).toContain("<title>Agora token playground</title>");
    expect(html).toContain('src="./playground/main.js"');
  });

  it("lets the page call the other services PLAYGROUND_SERVICE_ORIGINS lists, and no others", async () => {
    const assets = loadPlaygroundAssets();
    if (!assets) throw new Error("the playground is not built");
    const listing = await startTestServer({
      httpRoutes: [
        playgroundRoute(assets, {
          serviceOrigins: ["https://tokens.example.com", "http://localhost:9000"],
        }),
      ],
    });
    try {
      const policy = (await fetch(`${listing.baseUrl}/`)).headers.get("content-security-policy");
      expect(policy?.split("; ")).toContain(
        "connect-src 'self' https://tokens.example.com http://localhost:9000",
      );
    } finally {
      await listing.close();
    }
  });

  it("serves the bundle and its style with their types", async () => {
    const script = await fetch(`${server.baseUrl}/playground/main.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(Buffer.from(await script.arrayBuffer())).toEqual(
      readFileSync(resolve(import.meta.dirname, "../../dist/playground/main.js")),
    );
    const style = await fetch(`${server.baseUrl}/playground/main.css`);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const head = await fetch(`${server.baseUrl}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("answers the browser's /favicon.ico with 204, not a 404", async () => {
    const icon = await fetch(`${server.baseUrl}/favicon.ico`);
    expect(icon.status).toBe(204);
    expect(await icon.text()).toBe("");
    expect(icon.headers.get("cache-control")).toBe("max-age=86400");
    // Without the playground, the service has no icon to answer for.
    const bare = await startTestServer();
    try {
      expect((await fetch(`${bare.baseUrl}/favicon.ico`)).status).toBe(404);
    } finally {
      await bare.close();
    }
  });

  it("leaves other paths and methods to the RPC and legacy routes", async () => {
    expect((await fetch(`${server.baseUrl}/ping`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/playground/other.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/`, { method: "POST" })).status).toBe(404);
  });
});

describe("the service process and PLAYGROUND", () => {
  it("serves the playground outside production, not in production unless PLAYGROUND=on", async () => {
    const credentials = { APP_ID: SAMPLE.appId, APP_CERTIFICATE: SAMPLE.appCertificate };
    const services = await Promise.all([
      spawnService(),
      spawnService({ ...credentials, NODE_ENV: "production" }),
      spawnService({ ...credentials, NODE_ENV: "production", PLAYGROUND: "on" }),
    ]);
    try {
      const statuses = await Promise.all(
        services.map(async ({ port }) => (await fetch(`http://127.0.0.1:${port}/`)).status),
      );
      expect(statuses).toEqual([200, 404, 200]);
      expect(services[0]?.output()).toContain("token playground at http://localhost:");
    } finally {
      for (const service of services) service.process.kill("SIGTERM");
      await Promise.all(services.map((service) => service.exited));
    }
  });
});
