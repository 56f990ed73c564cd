import type { RedisFailureMode } from "./redis-rate-limiter.js";
import type { RateLimit } from "./token-bucket.js";

/** A limit for every caller, kept in memory or, with `redisUrl`, in Redis for all replicas. */
export interface RateLimitConfig {
  readonly limit: Readonly<RateLimit>;
  readonly redisUrl: string | undefined;
  readonly redisFailure: RedisFailureMode;
  /** Most callers the in-memory limiter remembers (each process on its own). */
  readonly maxCallers: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const MAX_RATE = 1_000_000;
const DEFAULT_MAX_CALLERS = 100_000;
const MIN_MAX_CALLERS = 1_000;
const MAX_MAX_CALLERS = 10_000_000;

/**
 * Reads `RATE_LIMIT_PER_MINUTE` (unset = no limit), `RATE_LIMIT_BURST` (default: the per-minute
 * rate), `RATE_LIMIT_MAX_CALLERS`, `REDIS_URL` and `RATE_LIMIT_REDIS_FAILURE` (`open` by
 * default), adding problems.
 */
export function readRateLimitConfig(env: Env, problems: string[]): RateLimitConfig | undefined {
  const whole = (name: string, min = 1, max = MAX_RATE): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  const perMinute = whole("RATE_LIMIT_PER_MINUTE");
  const burst = whole("RATE_LIMIT_BURST");
  const maxCallers =
    whole("RATE_LIMIT_MAX_CALLERS", MIN_MAX_CALLERS, MAX_MAX_CALLERS) ?? DEFAULT_MAX_CALLERS;
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) {
    problems.push("REDIS_URL must start with redis:// or rediss://");
  }
  const failure = env.RATE_LIMIT_REDIS_FAILURE || "open";
  if (failure !== "open" && failure !== "closed") {
    problems.push("RATE_LIMIT_REDIS_FAILURE must be open or closed");
  }
  if (perMinute === undefined) {
    if (env.RATE_LIMIT_BURST && !env.RATE_LIMIT_PER_MINUTE)
      problems.push("RATE_LIMIT_BURST needs RATE_LIMIT_PER_MINUTE");
    return undefined;
  }
  return Object.freeze({
    limit: Object.freeze({ perMinute, burst: burst ?? perMinute }),
    redisUrl,
    redisFailure: failure === "closed" ? "closed" : "open",
    maxCallers,
  });
}
