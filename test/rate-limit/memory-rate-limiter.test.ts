import { describe, expect, it } from "vitest";
import { createMemoryRateLimiter } from "../../src/rate-limit/memory-rate-limiter.js";
import { takeToken } from "../../src/rate-limit/token-bucket.js";

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

async function takeMany(
  limiter: ReturnType<typeof createMemoryRateLimiter>,
  key: string,
  n: number,
) {
  const kinds: string[] = [];
  for (let i = 0; i < n; i++) kinds.push((await limiter.take(key)).kind);
  return kinds;
}

describe("createMemoryRateLimiter()", () => {
  it("allows a burst, then one call per refill interval, and says when to retry", async () => {
    const time = fakeClock();
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 60, burst: 3 },
      clock: time.clock,
    });
    expect(await takeMany(limiter, "ip:a", 3)).toEqual(["allow", "allow", "allow"]);
    expect(await limiter.take("ip:a")).toEqual({ kind: "limited", retryAfterSeconds: 1 });
    time.advance(999);
    expect((await limiter.take("ip:a")).kind).toBe("limited");
    time.advance(1);
    expect(await takeMany(limiter, "ip:a", 2)).toEqual(["allow", "limited"]);
    // A long pause refills up to the burst, not beyond.
    time.advance(60_000);
    expect(await takeMany(limiter, "ip:a", 4)).toEqual(["allow", "allow", "allow", "limited"]);
  });

  it("keeps one bucket per caller", async () => {
    const limiter = createMemoryRateLimiter({ limit: { perMinute: 1, burst: 1 } });
    expect(await limiter.take("key:web")).toEqual({ kind: "allow" });
    expect(await limiter.take("key:web")).toEqual({ kind: "limited", retryAfterSeconds: 60 });
    expect(await limiter.take("key:jobs")).toEqual({ kind: "allow" });
  });

  it("forgets full buckets first when it holds too many", async () => {
    const time = fakeClock();
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 60, burst: 1 },
      clock: time.clock,
      maxKeys: 2,
    });
    await limiter.take("busy");
    time.advance(2_000);
    await limiter.take("refilled-then-busy");
    await limiter.take("third");
    // "busy" had refilled (so forgetting it was free); the newer, empty bucket was kept.
    expect((await limiter.take("refilled-then-busy")).kind).toBe("limited");
  });
});

describe("takeToken()", () => {
  it("never takes tokens away when the clock steps back", () => {
    const limit = { perMinute: 60, burst: 2 };
    const first = takeToken(undefined, 10_000, limit);
    const stepBack = takeToken(first.state, 5_000, limit);
    expect(stepBack).toMatchObject({ allowed: true, state: { tokens: 0, updatedAt: 10_000 } });
    expect(takeToken(stepBack.state, 10_500, limit)).toMatchObject({
      allowed: false,
      retryAfterMs: 500,
    });
  });
});
