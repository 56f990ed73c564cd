import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
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
 * streams end once shutdown has begun, so that they do not hold the connection open.
 */
export function createHealthService({
  readiness,
  services = [TokenService.typeName],
  watchIntervalMs = 5_000,
}: HealthServiceOptions): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
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
      let sent: ServingStatus | undefined;
      while (!context.signal.aborted) {
        const current = known.has(service) ? await status() : ServingStatus.SERVICE_UNKNOWN;
        if (current !== sent) {
          yield { status: current };
          sent = current;
        }
        if (readiness.isShuttingDown()) return;
        await Promise.race([
          readiness.shutdownBegun,
          sleep(watchIntervalMs, undefined, { signal: context.signal }).catch(() => {}),
        ]);
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
