import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

type Status = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

export type CheckOutcome = { kind: "ok"; status: Status } | { kind: "error"; code: grpc.status };

interface HealthStub extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: Status }) => void,
  ): void;
  Watch(request: { service: string }): grpc.ClientReadableStream<{ status: Status }>;
}

const HealthStubConstructor = grpc.makeClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  "grpc.health.v1.Health",
) as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthStub;

/** grpc-health-check's service definition driven by `@grpc/grpc-js`, as gRPC health probes do. */
export function healthClient(port: number) {
  const stub = new HealthStubConstructor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    check(service = ""): Promise<CheckOutcome> {
      return new Promise((resolve) => {
        stub.Check({ service }, { deadline: Date.now() + 10_000 }, (error, response) => {
          if (error) resolve({ kind: "error", code: error.code });
          else resolve({ kind: "ok", status: response?.status ?? "UNKNOWN" });
        });
      });
    },
    /** Statuses as they arrive, and how the stream ended. */
    watch(service = "") {
      const call = stub.Watch({ service });
      const statuses: Status[] = [];
      const waiters: Array<() => void> = [];
      call.on("data", (message: { status: Status }) => {
        statuses.push(message.status);
        for (const wake of waiters.splice(0)) wake();
      });
      const ended = new Promise<grpc.status>((resolve) => {
        call.on("status", (status: grpc.StatusObject) => resolve(status.code));
        call.on("error", () => {});
      });
      return {
        statuses,
        ended,
        /** Resolves once `count` statuses have arrived. */
        async received(count: number): Promise<Status[]> {
          while (statuses.length < count) await new Promise<void>((wake) => waiters.push(wake));
          return statuses.slice(0, count);
        },
        cancel: () => call.cancel(),
      };
    },
    close: () => stub.close(),
  };
}
