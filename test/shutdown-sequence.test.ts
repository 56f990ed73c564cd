import * as grpc from "@grpc/grpc-js";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RtcRole } from "../gen/agora/token/v1/token_service_pb.js";
import { grpcJsClient } from "./support/clients.js";
import { decodeToken } from "./support/decode-token.js";
import { healthClient } from "./support/health-client.js";
import { type SpawnedService, spawnService } from "./support/spawn-service.js";

let service: SpawnedService | undefined;
afterEach(() => {
  if (service?.process.exitCode === null) service.process.kill("SIGKILL");
  service = undefined;
});

describe("the running service (src/main.ts)", () => {
  it("answers /metrics, /readyz and a gRPC health check; on SIGTERM turns unready at once, serves through SHUTDOWN_DELAY_MS, then exits 0", async () => {
    service = await spawnService({ SHUTDOWN_DELAY_MS: "5000" });
    const baseUrl = `http://127.0.0.1:${service.port}`;
    const health = healthClient(service.port);
    try {
      expect(await health.check()).toEqual({ kind: "ok", status: "SERVING" });
      expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
      const metrics = await fetch(`${baseUrl}/metrics`);
      const families = parsePrometheusTextFormat(await metrics.text());
      expect(families.map((family) => family.name)).toContain("agora_token_requests_total");

      service.process.kill("SIGTERM");
      await vi.waitFor(async () => expect((await fetch(`${baseUrl}/readyz`)).status).toBe(503), {
        timeout: 2_000,
        interval: 20,
      });
      expect(await health.check()).toEqual({ kind: "ok", status: "NOT_SERVING" });

      // A new client on a new connection is still served during the delay.
      const client = grpcJsClient(service.port);
      const outcome = await client.getToken({
        request: { case: "rtc", value: { channel: "draining", uid: "3", role: RtcRole.PUBLISHER } },
      });
      client.close();
      if (outcome.kind !== "ok") throw new Error(JSON.stringify(outcome));
      expect(decodeToken(outcome.response.token).services[0]).toMatchObject({
        channel: "draining",
      });

      expect(await service.exited).toBe(0);
      expect(await health.check()).toMatchObject({ kind: "error", code: grpc.status.UNAVAILABLE });
      const output = service.output();
      expect(output).toContain("SIGTERM received");
      expect(output).toContain('"msg":"stopped"');
    } finally {
      health.close();
    }
  });
});
