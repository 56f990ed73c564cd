// Run as a child process with --expose-gc (test/server/health-watch-memory.test.ts): drives
// grpc.health.v1.Health/Watch through connect-es's in-memory router transport, many loops on
// open streams and many streams opened and closed, and prints the heap before and after, each
// after a full garbage collection, as JSON.
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthService } from "../../src/server/health/health-service.js";
import { createReadiness } from "../../src/server/health/readiness.js";

const STREAMS = Number(process.env.WATCH_STREAMS ?? 100);
const LOOPS = Number(process.env.WATCH_LOOPS ?? 200);
const CLOSED_STREAMS = Number(process.env.WATCH_CLOSED_STREAMS ?? 5_000);

const gc = globalThis.gc;
if (!gc) throw new Error("run with --expose-gc");
const readiness = createReadiness();
const client = createClient(
  Health,
  createRouterTransport(({ service }) =>
    service(Health, createHealthService({ readiness, watchIntervalMs: 1 })),
  ),
);

/** Opens a Watch, lets it loop `loops` times (at 1 ms a loop), then cancels it. */
async function watch(loops: number): Promise<void> {
  const controller = new AbortController();
  const stream = client
    .watch({ service: "" }, { signal: controller.signal })
    [Symbol.asyncIterator]();
  await stream.next();
  // Asking for the next status keeps the stream looping: the status does not change.
  const next = stream.next().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, loops));
  controller.abort();
  await next;
}

async function heapAfterGc(): Promise<number> {
  for (let round = 0; round < 4; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
  return process.memoryUsage().heapUsed;
}

await Promise.all(Array.from({ length: 20 }, () => watch(5)));
const before = await heapAfterGc();
const startedAt = performance.now();
await Promise.all(Array.from({ length: STREAMS }, () => watch(LOOPS)));
for (let done = 0; done < CLOSED_STREAMS; done += 100) {
  await Promise.all(Array.from({ length: 100 }, () => watch(0)));
}
const after = await heapAfterGc();
console.log(
  JSON.stringify({
    before,
    after,
    streams: STREAMS + CLOSED_STREAMS,
    loops: STREAMS * LOOPS,
    ms: Math.round(performance.now() - startedAt),
  }),
);
