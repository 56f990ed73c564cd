/**
 * `limited`: the caller is over its limit (→ ResourceExhausted with Retry-After). `unavailable`:
 * the shared store cannot be reached and the limiter is set to fail closed (→ Unavailable).
 */
export type RateDecision =
  | { kind: "allow" }
  | { kind: "limited"; retryAfterSeconds: number }
  | { kind: "unavailable" };

/** Counts calls per caller key against one {@link RateLimit} for every caller. */
export interface RateLimiter {
  take(key: string): Promise<RateDecision>;
  /** For readiness checks: false while a shared store is unreachable or does not answer in time. */
  isReady(): boolean | Promise<boolean>;
  close(): Promise<void>;
}

/** Whole seconds for a `Retry-After` header: at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
