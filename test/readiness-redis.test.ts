import { Redis } from "ioredis";
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

  it("is unready while Redis hangs (SIGSTOP) with its connection open, and ready once it answers", async () => {
    redis = await startRedisServer();
    server = await startApp({
      RATE_LIMIT_PER_MINUTE: "600",
      REDIS_URL: redis.url,
      RATE_LIMIT_REDIS_FAILURE: "closed",
    });
    const { baseUrl } = server;
    await expect.poll(() => readyStatus(baseUrl), { timeout: 10_000 }).toBe(200);

    redis.pause();
    await expect
      .poll(
        async () => {
          const response = await fetch(`${baseUrl}/readyz`);
          return { status: response.status, body: await response.json() };
        },
        { timeout: 15_000 },
      )
      .toEqual({ status: 503, body: { status: "not ready", reasons: ["redis is not ready"] } });
    const health = healthClient(server.port);
    await expect
      .poll(() => health.check(""), { timeout: 5_000 })
      .toEqual({ kind: "ok", status: "NOT_SERVING" });
    expect(server.logText()).toMatch(/Redis is unreachable \(Command timed out\)/);

    redis.resume();
    await expect.poll(() => readyStatus(baseUrl), { timeout: 15_000 }).toBe(200);
    await expect
      .poll(() => health.check(""), { timeout: 5_000 })
      .toEqual({ kind: "ok", status: "SERVING" });
    health.close();
    expect(server.logText()).toContain("Redis is reachable again");
  }, 40_000);

  it("sends Redis one PING a second at most, however many probes arrive", async () => {
    redis = await startRedisServer();
    server = await startApp({ RATE_LIMIT_PER_MINUTE: "600", REDIS_URL: redis.url });
    const { baseUrl } = server;
    await expect.poll(() => readyStatus(baseUrl), { timeout: 10_000 }).toBe(200);
    const observer = new Redis(redis.url);
    try {
      const before = await pingsServed(observer);
      const statuses = await Promise.all(Array.from({ length: 50 }, () => readyStatus(baseUrl)));
      expect(statuses).toEqual(Array(50).fill(200));
      // One PING, or two if the 50 probes straddle the end of a second on a loaded machine.
      expect((await pingsServed(observer)) - before).toBeLessThanOrEqual(2);
    } finally {
      observer.disconnect();
    }
  });
});

/** How many PING commands Redis has answered since it started (INFO commandstats). */
async function pingsServed(client: Redis): Promise<number> {
  const stats = await client.info("commandstats");
  return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}
