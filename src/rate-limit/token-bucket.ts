/** A token bucket: `burst` tokens at most, refilled at `perMinute` tokens per minute. */
export interface RateLimit {
  perMinute: number;
  burst: number;
}

export interface BucketState {
  /** Tokens left, fractional while refilling. */
  tokens: number;
  /** When `tokens` was computed, ms since the epoch. */
  updatedAt: number;
}

export interface TakeResult {
  state: BucketState;
  allowed: boolean;
  /** When refused, how long until one whole token is back, in ms. */
  retryAfterMs: number;
}

/**
 * Takes one token from a bucket (a new bucket starts full). Pure: the Redis Lua script in
 * `redis-rate-limiter.ts` does the same arithmetic.
 */
export function takeToken(
  state: BucketState | undefined,
  now: number,
  limit: RateLimit,
): TakeResult {
  const perMs = limit.perMinute / 60_000;
  const before = state ?? { tokens: limit.burst, updatedAt: now };
  // A clock that steps back never takes tokens away.
  const elapsed = Math.max(0, now - before.updatedAt);
  const tokens = Math.min(limit.burst, before.tokens + elapsed * perMs);
  const updatedAt = Math.max(now, before.updatedAt);
  if (tokens >= 1) {
    return { state: { tokens: tokens - 1, updatedAt }, allowed: true, retryAfterMs: 0 };
  }
  return {
    state: { tokens, updatedAt },
    allowed: false,
    retryAfterMs: Math.ceil((1 - tokens) / perMs),
  };
}

/** True when a bucket has refilled to `burst`, so forgetting it changes nothing. */
export function isFull(state: BucketState, now: number, limit: RateLimit): boolean {
  const elapsed = Math.max(0, now - state.updatedAt);
  return state.tokens + (elapsed * limit.perMinute) / 60_000 >= limit.burst;
}
