import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/auth/api-keys.js";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { createMemoryRateLimiter } from "../src/rate-limit/memory-rate-limiter.js";
import type { RateLimiter } from "../src/rate-limit/rate-limiter.js";
import {
  createRedisRateLimiter,
  type RedisFailureMode,
  type RedisRateLimiter,
} from "../src/rate-limit/redis-rate-limiter.js";
import type { RateLimit } from "../src/rate-limit/token-bucket.js";
import type { TrustProxy } from "../src/server/http/client-address.js";
import { createCallGuard } from "../src/service/call-guard.js";
import { type Answer, type Asker, askerFor, PROTOCOLS, type Protocol, rtc } from "./support/ask.js";
import {
  freePort,
  hasRedisServer,
  type RedisServer,
  startRedisServer,
} from "./support/redis-server.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

interface Replica {
  server: TestServer;
  asker: Asker;
  close(): Promise<void>;
}

/** A token service with a rate limiter; API keys named after the protocols, or open mode. */
async function startReplica(
  rateLimiter: RateLimiter,
  { apiKeys = false, trustProxy = false }: { apiKeys?: boolean; trustProxy?: TrustProxy } = {},
): Promise<Replica> {
  const keys = apiKeys
    ? PROTOCOLS.map((name) => ({ name, digest: hashApiKey(`${name}-key-0123456789`) }))
    : [];
  const server = await startTestServer({
    callGuard: createCallGuard({
      authenticator: createAuthenticator({ apiKeys: keys, jwt: undefined }),
      rateLimiter,
    }),
    trustProxy,
  });
  const asker = askerFor(server);
  return {
    server,
    asker,
    async close() {
      asker.close();
      await server.close();
      await rateLimiter.close();
    },
  };
}

const keyOf = (protocol: Protocol) => ({ authorization: `Bearer ${protocol}-key-0123456789` });

async function codes(answers: Promise<Answer>[]): Promise<(Code | "ok")[]> {
  const result: (Code | "ok")[] = [];
  for (const answer of answers) result.push((await answer).code);
  return result;
}

describe("rate limits on one instance", () => {
  let now = 1_700_000_000_000;
  let replica: Replica;
  beforeAll(async () => {
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 30, burst: 2 },
      clock: () => now,
    });
    replica = await startReplica(limiter, { apiKeys: true });
  });
  afterAll(() => replica.close());

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it("allows the burst, then ResourceExhausted with Retry-After, then the rate", async () => {
      const ask = () => replica.asker.ask(protocol, rtc("alice"), keyOf(protocol));
      expect((await ask()).code).toBe("ok");
      expect((await ask()).code).toBe("ok");
      expect(await ask()).toMatchObject({
        code: Code.ResourceExhausted,
        message: "too many requests from this caller. Retry after 2 seconds",
        retryAfter: "2",
      });
      // 30 a minute is one every 2 seconds.
      now += 1_999;
      expect((await ask()).code).toBe(Code.ResourceExhausted);
      now += 1;
      expect((await ask()).code).toBe("ok");
      expect((await ask()).code).toBe(Code.ResourceExhausted);
      // One second from the next token: singular.
      now += 1_000;
      expect(await ask()).toMatchObject({
        code: Code.ResourceExhausted,
        message: "too many requests from this caller. Retry after 1 second",
        retryAfter: "1",
      });
    });
  });

  it("answers HTTP 429 with Retry-After to Connect and legacy callers", async () => {
    const headers = {
      "Content-Type": "application/json",
      ...keyOf("connect"),
    };
    now += 60_000;
    const connect = () =>
      fetch(`${replica.server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
        method: "POST",
        headers,
        body: JSON.stringify({ chat: { uid: "alice" } }),
      });
    await connect();
    await connect();
    const limited = await connect();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(await limited.json()).toMatchObject({ code: "resource_exhausted" });

    const legacy = await fetch(`${replica.server.baseUrl}/chat/account/alice/`, {
      headers: keyOf("connect"),
    });
    expect(legacy.status).toBe(429);
    expect(legacy.headers.get("retry-after")).toBe("2");
  });
});

describe("rate limits by client address in open mode", () => {
  it("counts X-Forwarded-For only when TRUST_PROXY says so", async () => {
    const limit: RateLimit = { perMinute: 1, burst: 1 };
    const forwardedFrom = (address: string) => ({ "x-forwarded-for": address });
    const trusting = await startReplica(createMemoryRateLimiter({ limit }), { trustProxy: 1 });
    const ignoring = await startReplica(createMemoryRateLimiter({ limit }));
    try {
      const clientsByProtocol = {
        grpc: ["192.0.2.1", "192.0.2.2"],
        legacy: ["198.51.100.1", "198.51.100.2"],
      } as const;
      for (const [protocol, [first, second]] of Object.entries(clientsByProtocol)) {
        const viaTrusting = (address: string) =>
          trusting.asker.ask(protocol as Protocol, rtc("alice"), forwardedFrom(address));
        expect(await codes([viaTrusting(first), viaTrusting(second)])).toEqual(["ok", "ok"]);
        // The proxy appends the address it saw: the client's own claim left of it is ignored.
        expect((await viaTrusting(`203.0.113.9, ${first}`)).code).toBe(Code.ResourceExhausted);
      }
      // Without TRUST_PROXY the header is the client's word, and the socket address counts.
      const viaIgnoring = (address: string) =>
        ignoring.asker.ask("legacy", rtc("alice"), forwardedFrom(address));
      expect(await codes([viaIgnoring("192.0.2.1"), viaIgnoring("192.0.2.2")])).toEqual([
        "ok",
        Code.ResourceExhausted,
      ]);
    } finally {
      await trusting.close();
      await ignoring.close();
    }
  });
});

describe("rate limits on two replicas without Redis", () => {
  it("are enforced by each replica on its own", async () => {
    const limit: RateLimit = { perMinute: 1, burst: 3 };
    const replicas = [
      await startReplica(createMemoryRateLimiter({ limit })),
      await startReplica(createMemoryRateLimiter({ limit })),
    ];
    try {
      const answers: (Code | "ok")[] = [];
      for (let i = 0; i < 8; i++) {
        const replica = replicas[i % 2] as Replica;
        answers.push((await replica.asker.ask("legacy", rtc("alice"))).code);
      }
      expect(answers.filter((code) => code === "ok")).toHaveLength(6);
    } finally {
      for (const replica of replicas) await replica.close();
    }
  });
});

const redisTitle = hasRedisServer
  ? "rate limits shared through Redis"
  : "rate limits shared through Redis (SKIPPED: the redis-server binary is not installed; .ci/run installs it)";

describe.skipIf(!hasRedisServer)(redisTitle, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  async function redisLimiter(
    url: string,
    limit: RateLimit,
    keyPrefix: string,
    onFailure: RedisFailureMode = "open",
    log: (level: string, message: string) => void = () => {},
  ): Promise<RedisRateLimiter> {
    const limiter = createRedisRateLimiter({ url, limit, onFailure, log, keyPrefix });
    return limiter;
  }

  it("makes two replicas enforce one combined limit on every protocol", async () => {
    const prefix = `test-${randomUUID()}:`;
    const limit: RateLimit = { perMinute: 1, burst: 3 };
    const limiters = [
      await redisLimiter(redis.url, limit, prefix),
      await redisLimiter(redis.url, limit, prefix),
    ];
    await Promise.all(limiters.map((limiter) => limiter.whenReady()));
    const replicas = await Promise.all(limiters.map((limiter) => startReplica(limiter)));
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 9; i++) {
        const replica = replicas[i % 2] as Replica;
        const protocol = PROTOCOLS[i % 3] as Protocol;
        answers.push(await replica.asker.ask(protocol, rtc("alice")));
      }
      expect(answers.map((answer) => answer.code)).toEqual([
        "ok",
        "ok",
        "ok",
        ...Array(6).fill(Code.ResourceExhausted),
      ]);
      // One token a minute: the next one is (almost) a minute away.
      for (const answer of answers.slice(3)) {
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(50);
        expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
      }
    } finally {
      for (const replica of replicas) await replica.close();
    }
  });

  it("fails open or closed while Redis is unreachable, says so once, and recovers", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const limit: RateLimit = { perMinute: 1, burst: 1 };
    const logs: string[] = [];
    const log = (level: string, message: string) => logs.push(`${level} ${message}`);
    const open = await redisLimiter(url, limit, `test-${randomUUID()}:`, "open", log);
    const closed = await redisLimiter(url, limit, `test-${randomUUID()}:`, "closed");
    const replicas = [await startReplica(open), await startReplica(closed)];
    let lateRedis: RedisServer | undefined;
    try {
      const [failOpen, failClosed] = replicas as [Replica, Replica];
      expect(await open.isReady()).toBe(false);
      expect(
        await codes([
          failOpen.asker.ask("legacy", rtc("alice")),
          failOpen.asker.ask("grpc", rtc("alice")),
        ]),
      ).toEqual(["ok", "ok"]);
      expect(await failClosed.asker.ask("grpc", rtc("alice"))).toMatchObject({
        code: Code.Unavailable,
        message: "the rate limiter is unavailable. Retry later",
      });
      expect((await failClosed.asker.ask("legacy", rtc("alice"))).code).toBe(Code.Unavailable);
      const unreachable = logs.filter((line) => line.includes("Redis is unreachable"));
      expect(unreachable).toHaveLength(1);
      expect(unreachable[0]).toMatch(
        /^error rate limiter: Redis is unreachable .*RATE_LIMIT_REDIS_FAILURE=open so calls are let through/,
      );

      lateRedis = await startRedisServer(port);
      await open.whenReady();
      expect(await open.isReady()).toBe(true);
      expect(logs.at(-1)).toBe("info rate limiter: Redis is reachable again");
      expect(
        await codes([
          failOpen.asker.ask("legacy", rtc("alice")),
          failOpen.asker.ask("legacy", rtc("alice")),
        ]),
      ).toEqual(["ok", Code.ResourceExhausted]);
    } finally {
      for (const replica of replicas) await replica.close();
      await lateRedis?.stop();
    }
  });
});
