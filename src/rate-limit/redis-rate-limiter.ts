import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import { type RateDecision, type RateLimiter, retryAfterSeconds } from "./rate-limiter.js";
import type { RateLimit } from "./token-bucket.js";

/** What happens to calls while Redis is unreachable: let them through, or refuse them. */
export type RedisFailureMode = "open" | "closed";

export interface RedisRateLimiterOptions {
  /** `redis://` or `rediss://`; it may hold a password, so it is never logged. */
  url: string;
  limit: RateLimit;
  onFailure: RedisFailureMode;
  /** Told once when Redis becomes unreachable and once when it is back. */
  log: (level: "info" | "error", message: string) => void;
  /** Prefix of every key the limiter writes. */
  keyPrefix?: string;
  /** Longest one call (or readiness PING) waits for Redis before it counts as unreachable, in ms. */
  commandTimeoutMs?: number;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Resolves once the connection is ready (for tests and start-up ordering). */
  whenReady(): Promise<void>;
}

// The token bucket of token-bucket.ts, done atomically in Redis so that every replica draws
// from the same bucket. Redis's own clock (TIME) is the one clock all replicas share.
// KEYS[1] bucket; ARGV[1] tokens per ms; ARGV[2] burst. Returns {allowed (0|1), retry after ms}.
const TAKE_TOKEN_LUA = `
local per_ms = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * per_ms)
  at = now
end
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / per_ms) + 1000)
return {allowed, retry_ms}
`;

/** How long one readiness PING's answer is reused by the probes that follow, in ms. */
const PING_REUSE_MS = 1_000;

type WithTakeToken = Redis & {
  agoraTakeToken(key: string, perMs: string, burst: string): Promise<[number, number]>;
};

/**
 * Token buckets kept in Redis, shared by every replica that uses the same Redis. Calls never
 * queue while Redis is down: they fail at once, open or closed as configured.
 */
export function createRedisRateLimiter({
  url,
  limit,
  onFailure,
  log,
  keyPrefix = "agora-token:rate:",
  commandTimeoutMs = 1_000,
}: RedisRateLimiterOptions): RedisRateLimiter {
  // ioredis (about 20 MiB of RSS) loads only when REDIS_URL is set, not with this module.
  const { Redis: RedisClient } = createRequire(import.meta.url)(
    "ioredis",
  ) as typeof import("ioredis");
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  }) as WithTakeToken;
  client.defineCommand("agoraTakeToken", { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });

  let reachable: boolean | undefined;
  const outcome =
    onFailure === "open" ? "calls are let through without a limit" : "calls are refused";
  const markUnreachable = (error: unknown) => {
    if (reachable === false) return;
    reachable = false;
    const detail = error instanceof Error ? error.message : String(error);
    log(
      "error",
      `rate limiter: Redis is unreachable (${detail}). RATE_LIMIT_REDIS_FAILURE=${onFailure} so ${outcome} until it is back`,
    );
  };
  const markReachable = () => {
    if (reachable === false) log("info", "rate limiter: Redis is reachable again");
    reachable = true;
  };
  // Readiness asks Redis itself: a Redis that stops answering (paused, swapping, overloaded)
  // keeps its TCP connection and ioredis's status "ready". Probes share one PING a second at
  // most, however often /readyz and gRPC health are asked.
  let lastPing: { at: number; answered: Promise<boolean> } | undefined;
  const ping = (): Promise<boolean> => {
    const now = Date.now();
    if (lastPing !== undefined && now - lastPing.at < PING_REUSE_MS) return lastPing.answered;
    const answered = client.ping().then(
      () => {
        markReachable();
        return true;
      },
      (error: unknown) => {
        markUnreachable(error);
        return false;
      },
    );
    lastPing = { at: now, answered };
    return answered;
  };

  client.on("error", (error: unknown) => {
    lastPing = undefined;
    markUnreachable(error);
  });
  client.on("ready", () => {
    lastPing = undefined;
    markReachable();
  });
  client.on("end", () => {
    reachable = undefined;
  });

  const perMs = String(limit.perMinute / 60_000);
  const burst = String(limit.burst);
  return {
    async take(key): Promise<RateDecision> {
      try {
        const [allowed, retryMs] = await client.agoraTakeToken(`${keyPrefix}${key}`, perMs, burst);
        markReachable();
        return allowed === 1
          ? { kind: "allow" }
          : { kind: "limited", retryAfterSeconds: retryAfterSeconds(retryMs) };
      } catch (error) {
        markUnreachable(error);
        return onFailure === "open" ? { kind: "allow" } : { kind: "unavailable" };
      }
    },
    isReady: () => (client.status === "ready" ? ping() : false),
    whenReady() {
      if (client.status === "ready") return Promise.resolve();
      return new Promise((resolve) => client.once("ready", () => resolve()));
    },
    async close() {
      client.disconnect();
    },
  };
}
