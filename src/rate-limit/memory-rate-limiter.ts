import type { Clock } from "../token/token-minter.js";
import { type RateDecision, type RateLimiter, retryAfterSeconds } from "./rate-limiter.js";
import { type BucketState, isFull, type RateLimit, takeToken } from "./token-bucket.js";

export interface MemoryRateLimiterOptions {
  limit: RateLimit;
  clock?: Clock;
  /** Most buckets kept; full buckets are forgotten first (forgetting a full bucket is free). */
  maxKeys?: number;
}

/** Token buckets in this process's memory: each replica enforces its own limit. */
export function createMemoryRateLimiter({
  limit,
  clock = Date.now,
  maxKeys = 100_000,
}: MemoryRateLimiterOptions): RateLimiter {
  const buckets = new Map<string, BucketState>();
  const makeRoom = (now: number) => {
    for (const [key, state] of buckets) if (isFull(state, now, limit)) buckets.delete(key);
    // Still full of active callers: forget the longest-known ones rather than grow forever.
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  };
  return {
    async take(key): Promise<RateDecision> {
      const now = clock();
      const state = buckets.get(key);
      if (state === undefined && buckets.size >= maxKeys) makeRoom(now);
      const result = takeToken(state, now, limit);
      buckets.set(key, result.state);
      return result.allowed
        ? { kind: "allow" }
        : { kind: "limited", retryAfterSeconds: retryAfterSeconds(result.retryAfterMs) };
    },
    isReady: () => true,
    close: async () => {},
  };
}
