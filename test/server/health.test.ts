import { once } from "node:events";
import { connect } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import { createReadiness } from "../../src/server/health/readiness.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { grpcJsClient, postLegacy } from "../support/clients.js";
import { decodeToken } from "../support/decode-token.js";
import { healthClient } from "../support/health-client.js";

let server: AppServer | undefined;
const cleanUps: Array<() => void> = [];

afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0)) cleanUp();
  await server?.close();
  server = undefined;
});

function track<T extends { close(): void }>(client: T): T {
  cleanUps.push(() => client.close());
  return client;
}

async function readyz(baseUrl: string) {
  const response = await fetch(`${baseUrl}/readyz`);
  return { status: response.status, body: await response.json() };
}

describe("grpc.health.v1.Health and /readyz", () => {
  it("say SERVING and ready, then NOT_SERVING and 503 as soon as shutdown begins", async () => {
    server = await startApp({ SHUTDOWN_DELAY_MS: "60000" });
    const health = track(healthClient(server.port));
    expect(await health.check()).toEqual({ kind: "ok", status: "SERVING" });
    expect(await health.check("agora.token.v1.TokenService")).toEqual({
      kind: "ok",
      status: "SERVING",
    });
    expect(await readyz(server.baseUrl)).toEqual({ status: 200, body: { status: "ready" } });

    // The delay is long: everything below happens while the listener is still open.
    void server.app.shutDown();

    expect(await health.check()).toEqual({ kind: "ok", status: "NOT_SERVING" });
    expect(await health.check("agora.token.v1.TokenService")).toEqual({
      kind: "ok",
      status: "NOT_SERVING",
    });
    expect(await readyz(server.baseUrl)).toEqual({
      status: 503,
      body: { status: "not ready", reasons: ["shutting down"] },
    });
    // Still alive: a liveness probe must not restart a server that is draining.
    const healthz = await fetch(`${server.baseUrl}/healthz`);
    expect(healthz.status).toBe(200);
  });

  it("keeps serving tokens during SHUTDOWN_DELAY_MS, then closes the listener", async () => {
    server = await startApp({ SHUTDOWN_DELAY_MS: "3000" });
    const stopped = server.app.shutDown();
    expect((await readyz(server.baseUrl)).status).toBe(503);

    // New connections and new requests are still answered while endpoints are withdrawn.
    const grpcClient = track(grpcJsClient(server.port));
    const outcome = await grpcClient.getToken({
      request: { case: "rtc", value: { channel: "late", uid: "7", role: RtcRole.PUBLISHER } },
    });
    if (outcome.kind !== "ok") throw new Error(JSON.stringify(outcome));
    expect(decodeToken(outcome.response.token).services[0]).toMatchObject({ channel: "late" });
    const legacy = await postLegacy(server.baseUrl, { tokenType: "rtm", uid: "late" });
    expect(legacy.status).toBe(200);

    await stopped;
    const refused = connect(server.port, "127.0.0.1");
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });

  it("Watch streams SERVING, then NOT_SERVING when shutdown begins, then ends so the drain can finish", async () => {
    server = await startApp({ SHUTDOWN_DELAY_MS: "0" });
    const health = track(healthClient(server.port));
    const watch = health.watch();
    expect(await watch.received(1)).toEqual(["SERVING"]);

    const stopped = server.app.shutDown();
    expect(await watch.received(2)).toEqual(["SERVING", "NOT_SERVING"]);
    expect(await watch.ended).toBe(grpc.status.OK);
    await stopped;
  });

  it("answers NOT_FOUND for Check of an unknown service, SERVICE_UNKNOWN for Watch", async () => {
    server = await startApp();
    const health = track(healthClient(server.port));
    expect(await health.check("no.such.Service")).toEqual({
      kind: "error",
      code: grpc.status.NOT_FOUND,
    });
    const watch = health.watch("no.such.Service");
    expect(await watch.received(1)).toEqual(["SERVICE_UNKNOWN"]);
    watch.cancel();
  });

  it("follows the registered readiness checks (e.g. Redis reachable)", async () => {
    let redisUp = false;
    server = await startApp({}, { readinessChecks: [{ name: "redis", check: () => redisUp }] });
    const health = track(healthClient(server.port));
    expect(await readyz(server.baseUrl)).toEqual({
      status: 503,
      body: { status: "not ready", reasons: ["redis is not ready"] },
    });
    expect(await health.check()).toEqual({ kind: "ok", status: "NOT_SERVING" });

    redisUp = true;
    expect(await readyz(server.baseUrl)).toEqual({ status: 200, body: { status: "ready" } });
    expect(await health.check()).toEqual({ kind: "ok", status: "SERVING" });
  });
});

describe("createReadiness()", () => {
  it("counts a check that throws or never answers as not ready, naming it", async () => {
    const readiness = createReadiness({
      checks: [
        { name: "redis", check: () => Promise.reject(new Error("ECONNREFUSED")) },
        { name: "slow", check: () => new Promise<boolean>(() => {}) },
        { name: "fine", check: () => true },
      ],
      checkTimeoutMs: 50,
    });
    expect(await readiness.check()).toEqual({
      kind: "not-ready",
      reasons: ["redis failed", "slow did not answer within 50 ms"],
    });
  });

  it("stays not ready once shutdown has begun, whatever the checks say", async () => {
    const readiness = createReadiness({ checks: [{ name: "fine", check: () => true }] });
    expect(await readiness.check()).toEqual({ kind: "ready" });
    readiness.beginShutdown();
    expect(readiness.isShuttingDown()).toBe(true);
    expect(await readiness.check()).toEqual({ kind: "not-ready", reasons: ["shutting down"] });
  });
});
