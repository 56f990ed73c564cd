// A gRPC health check, as grpc_health_probe or a Kubernetes gRPC probe makes it, with the
// grpc-health-check package's service definition and @grpc/grpc-js.
// Run against a local server: npx tsx examples/grpc-health-check.ts [host:port] [service]
// Prints the status (SERVING or NOT_SERVING) and exits 0 only when SERVING.
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

const HealthClientConstructor = grpc.makeClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  "grpc.health.v1.Health",
) as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

const client = new HealthClientConstructor(
  process.argv[2] ?? "localhost:8080",
  grpc.credentials.createInsecure(),
);
client.Check(
  { service: process.argv[3] ?? "" },
  { deadline: Date.now() + 5_000 },
  (error, response) => {
    client.close();
    if (error) {
      console.error(`health check failed: ${grpc.status[error.code]} ${error.details}`);
      process.exit(2);
    }
    console.log(response?.status);
    process.exit(response?.status === "SERVING" ? 0 : 1);
  },
);
