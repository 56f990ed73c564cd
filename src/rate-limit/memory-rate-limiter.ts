import type { Clock } from "../token/token-minter.js";
import { type RateDecision, type RateLimiter, retryAfterSeconds } from "./rate-limiter.js";
import { type BucketState, isFull, type RateLimit, takeToken } from "./token-bucket.js";

export interface MemoryRateLimiterOptions {
  limit: RateLimit;
  clock?: Clock;
  /**
   * Most callers remembered. Past it, each new caller makes room by forgetting one: an idle
   * caller (its bucket has refilled, so forgetting it is free) first, then the least recently
   * seen caller that still has a token, and a caller at its limit only when every caller is.
   */
  maxKeys?: number;
}

/**
 * Token buckets in this process's memory: each replica enforces its own limit. Each call costs
 * a constant number of Map operations, however many callers are remembered.
 */
export function createMemoryRateLimiter({
  limit,
  clock = Date.now,
  maxKeys = 100_000,
}: MemoryRateLimiterOptions): RateLimiter {
  // Callers with a token left after their last call, least recently seen first.
  const open = new Map<string, BucketState>();
  // Callers left without a token by their last allowed call, in the order of that call. A
  // refused call changes neither the bucket's refill nor its place here, so the first entry is
  // the first to refill: when it is still limited, no entry behind it has refilled completely
  // (see the test "never forgets a caller at its limit while an idle one can be forgotten").
  const limited = new Map<string, BucketState>();

  const forgetOne = (now: number) => {
    const first = limited.entries().next();
    if (!first.done && isFull(first.value[1], now, limit)) {
      limited.delete(first.value[0]);
      return;
    }
    const oldestOpen = open.keys().next();
    if (!oldestOpen.done) {
      open.delete(oldestOpen.value);
      return;
    }
    // Every caller remembered is at its limit: forget the one closest to its next token.
    if (!first.done) limited.delete(first.value[0]);
  };

  return {
    async take(key): Promise<RateDecision> {
      const now = clock();
      const wasOpen = open.get(key);
      const wasLimited = wasOpen === undefined ? limited.get(key) : undefined;
      const state = wasOpen ?? wasLimited;
      if (state === undefined && open.size + limited.size >= maxKeys) forgetOne(now);
      const result = takeToken(state, now, limit);
      if (!result.allowed) {
        // Still in `limited`, where it stays in place (see above).
        limited.set(key, result.state);
        return { kind: "limited", retryAfterSeconds: retryAfterSeconds(result.retryAfterMs) };
      }
      if (wasOpen !== undefined) open.delete(key);
      if (wasLimited !== undefined) limited.delete(key);
      (result.state.tokens >= 1 ? open : limited).set(key, result.state);
      return { kind: "allow" };
    },
    isReady: () => true,
    close: async () => {},
  };
}
