// In-memory rate limiter micro-benchmark: µs per call once the limiter holds `maxKeys` callers,
// for callers it knows and for new callers (each one makes room by forgetting another).
// Usage: npm run bench:rate-limit
import { cpus } from "node:os";
import { createMemoryRateLimiter } from "../src/rate-limit/memory-rate-limiter.js";

const MAX_KEYS = Number(process.env.BENCH_MAX_KEYS ?? 100_000);
const CALLS = Number(process.env.BENCH_ITERATIONS ?? 20_000);

let now = 1_700_000_000_000;
const limiter = createMemoryRateLimiter({
  limit: { perMinute: 1, burst: 10 },
  clock: () => now,
  maxKeys: MAX_KEYS,
});

async function microsecondsPerCall(key: (i: number) => string): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    await limiter.take(key(i));
    now += 1;
  }
  return Number(process.hrtime.bigint() - start) / 1_000 / CALLS;
}

// Fill it with callers that each used a token (none refills within the run: none is idle).
for (let i = 0; i < MAX_KEYS; i++) await limiter.take(`ip:known-${i}`);
const known = await microsecondsPerCall((i) => `ip:known-${(i * 7919) % MAX_KEYS}`);
const fresh = await microsecondsPerCall((i) => `ip:new-${i}`);

console.log(
  `machine: ${cpus()[0]?.model ?? "unknown"} (${cpus().length} cores), Node ${process.version}`,
);
console.log(`limiter full at ${MAX_KEYS} callers, ${CALLS} calls each`);
console.log(`known caller   ${known.toFixed(2)} µs/call`);
console.log(`new caller     ${fresh.toFixed(2)} µs/call (forgets one caller to make room)`);
