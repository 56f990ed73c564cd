import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { TokenService } from "../../../gen/agora/token/v1/token_service_pb.js";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../../gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "./readiness.js";

export interface HealthServiceOptions {
  readiness: Readiness;
  /** Services whose health can be asked by name, besides "" (the whole server); all share it. */
  services?: readonly string[];
  /** How often `Watch` re-runs the readiness checks, in ms; shutdown is reported at once. */
  watchIntervalMs?: number;
}

/**
 * The standard `grpc.health.v1.Health` service, answering from the server's readiness: SERVING
 * while ready, NOT_SERVING from the start of shutdown or while a readiness check fails. `Watch`
 * streams end once shutdown has begun, so that they do not hold the connection open, and end
 * with the reason their call was aborted for (the client's deadline, the stream's maximum age).
 * A stream keeps nothing once it has closed, and its loop nothing per turn.
 */
export function createHealthService({
  readiness,
  services = [TokenService.typeName],
  watchIntervalMs = 5_000,
}: HealthServiceOptions): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
  // One subscription for every stream: racing the promise in each wait would leave a reaction
  // on it per wait, kept until shutdown. Waiting streams are woken from this set instead.
  const waiting = new Set<() => void>();
  void readiness.shutdownBegun.then(() => {
    for (const wake of waiting) wake();
  });
  const status = async () =>
    (await readiness.check()).kind === "ready" ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;

  return {
    async check({ service }) {
      if (!known.has(service)) {
        throw new ConnectError(
          "service is not one whose health this server reports",
          Code.NotFound,
        );
      }
      return { status: await status() };
    },

    async *watch({ service }, context) {
      const { signal } = context;
      let sent: ServingStatus | undefined;
      for (;;) {
        if (signal.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
        const current = known.has(service) ? await status() : ServingStatus.SERVICE_UNKNOWN;
        if (current !== sent) {
          yield { status: current };
          sent = current;
        }
        if (readiness.isShuttingDown()) return;
        await pause(watchIntervalMs, signal, waiting);
      }
    },

    async list() {
      const current = await status();
      return {
        statuses: Object.fromEntries([...known].map((name) => [name, { status: current }])),
      };
    },
  };
}

/**
 * Waits `ms`, or less when `signal` aborts or someone wakes the waiters; leaves no listener,
 * waiter or timer behind.
 */
function pause(ms: number, signal: AbortSignal, waiting: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) return done();
    signal.addEventListener("abort", done);
    waiting.add(done);
  });
}
