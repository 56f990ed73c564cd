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

describe("createMemoryRateLimiter() at maxKeys", () => {
  it("never forgets a caller at its limit while others can be forgotten", async () => {
    const time = fakeClock();
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 60, burst: 2 },
      clock: time.clock,
      maxKeys: 3,
    });
    // The first caller known, now at its limit: forgetting it would hand it a fresh burst.
    expect(await takeMany(limiter, "ip:hog", 3)).toEqual(["allow", "allow", "limited"]);
    // A flood of new callers (new addresses), each making room for itself.
    for (let i = 0; i < 50; i++) {
      expect((await limiter.take(`ip:flood-${i}`)).kind).toBe("allow");
      time.advance(10);
    }
    expect((await limiter.take("ip:hog")).kind).toBe("limited");
  });

  it("forgets a caller whose bucket refilled before one still at its limit", async () => {
    const time = fakeClock();
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 60, burst: 1 },
      clock: time.clock,
      maxKeys: 2,
    });
    expect(await limiter.take("ip:early")).toEqual({ kind: "allow" });
    time.advance(500);
    expect(await takeMany(limiter, "ip:hog", 2)).toEqual(["allow", "limited"]);
    // 1.2 s in: early's bucket is full again, hog's is not.
    time.advance(700);
    expect((await limiter.take("ip:new")).kind).toBe("allow");
    expect(await limiter.take("ip:hog")).toEqual({ kind: "limited", retryAfterSeconds: 1 });
    // Once every caller is at its limit, the one closest to its next token goes first.
    time.advance(100);
    expect((await limiter.take("ip:newer")).kind).toBe("allow");
    expect((await limiter.take("ip:new")).kind).toBe("limited");
    expect((await limiter.take("ip:newer")).kind).toBe("limited");
  });

  it("does not count a refused call as recent use", async () => {
    const time = fakeClock();
    const limiter = createMemoryRateLimiter({
      limit: { perMinute: 60, burst: 1 },
      clock: time.clock,
      maxKeys: 2,
    });
    expect(await limiter.take("ip:a")).toEqual({ kind: "allow" });
    time.advance(600);
    expect(await limiter.take("ip:b")).toEqual({ kind: "allow" });
    time.advance(300);
    expect((await limiter.take("ip:a")).kind).toBe("limited");
    // 1.1 s in: a has refilled (its refused call gave it nothing), b is still at its limit.
    time.advance(200);
    expect((await limiter.take("ip:new")).kind).toBe("allow");
    expect((await limiter.take("ip:b")).kind).toBe("limited");
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
