import { afterEach, describe, expect, it } from "vitest";
import { type AppServer, startApp } from "./support/app-server.js";
import { healthClient } from "./support/health-client.js";
import { hasRedisServer, type RedisServer, startRedisServer } from "./support/redis-server.js";

let server: AppServer | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await server?.close();
  await redis?.stop();
  server = undefined;
  redis = undefined;
});

async function readyStatus(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/readyz`)).status;
}

describe.skipIf(!hasRedisServer)("readiness with REDIS_URL (the app as main.ts builds it)", () => {
  it("is ready while Redis answers, unready while it is down, and ready again after", async () => {
    redis = await startRedisServer();
    const { port } = redis;
    server = await startApp({
      RATE_LIMIT_PER_MINUTE: "600",
      REDIS_URL: redis.url,
      RATE_LIMIT_REDIS_FAILURE: "open",
    });
    const { baseUrl } = server;
    await expect.poll(() => readyStatus(baseUrl), { timeout: 10_000 }).toBe(200);

    await redis.stop();
    redis = undefined;
    await expect.poll(() => readyStatus(baseUrl), { timeout: 15_000 }).toBe(503);
    const health = healthClient(server.port);
    await expect
      .poll(() => health.check(""), { timeout: 5_000 })
      .toEqual({ kind: "ok", status: "NOT_SERVING" });
    health.close();

    redis = await startRedisServer(port);
    await expect.poll(() => readyStatus(baseUrl), { timeout: 15_000 }).toBe(200);
  }, 40_000);
});
