import * as http2 from "node:http2";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { allProtocolClients, postLegacy } from "../support/clients.js";
import { decodeToken } from "../support/decode-token.js";
import { healthClient } from "../support/health-client.js";
import { envelope, rawRequest, rpcResult } from "../support/raw-rpc.js";

const WATCH = "/grpc.health.v1.Health/Watch";
let server: AppServer | undefined;
const cleanUps: Array<() => void> = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0)) cleanUp();
  await server?.close();
  server = undefined;
});

function session(baseUrl: string): http2.ClientHttp2Session {
  const opened = http2.connect(baseUrl);
  opened.on("error", () => {});
  cleanUps.push(() => opened.close());
  return opened;
}

function watchTransports(baseUrl: string): Array<[string, Transport]> {
  return [
    ["gRPC", createGrpcTransport({ baseUrl })],
    ["gRPC-Web HTTP/1.1", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
    ["gRPC-Web HTTP/2", createGrpcWebTransport({ baseUrl, httpVersion: "2" })],
    ["Connect HTTP/1.1", createConnectTransport({ baseUrl, httpVersion: "1.1" })],
    ["Connect HTTP/2", createConnectTransport({ baseUrl, httpVersion: "2" })],
  ];
}

/** Watches the server's health until the stream ends; returns the statuses and how it ended. */
async function watchUntilEnd(transport: Transport, signal?: AbortSignal) {
  const statuses: string[] = [];
  try {
    for await (const { status } of createClient(Health, transport).watch(
      { service: "" },
      signal ? { signal } : {},
    )) {
      statuses.push(HealthCheckResponse_ServingStatus[status]);
    }
    return { statuses, code: "ok", message: "" };
  } catch (error) {
    const { code, rawMessage } = ConnectError.from(error);
    return { statuses, code: Code[code], message: rawMessage };
  }
}

/** A raw Watch request (no client-side deadline of its own), as each protocol frames it. */
const rawWatches = [
  {
    name: "gRPC over HTTP/2",
    httpVersion: "2" as const,
    headers: { "content-type": "application/grpc", te: "trailers" },
    body: envelope(0, new Uint8Array()),
    timeout: { "grpc-timeout": "400m" },
  },
  {
    name: "gRPC-Web over HTTP/1.1",
    httpVersion: "1.1" as const,
    headers: { "content-type": "application/grpc-web+proto" },
    body: envelope(0, new Uint8Array()),
    timeout: { "grpc-timeout": "400m" },
  },
  {
    name: "Connect streaming over HTTP/1.1",
    httpVersion: "1.1" as const,
    headers: { "content-type": "application/connect+json" },
    body: envelope(0, Buffer.from("{}")),
    timeout: { "connect-timeout-ms": "400" },
  },
  {
    name: "Connect streaming over HTTP/2",
    httpVersion: "2" as const,
    headers: { "content-type": "application/connect+json" },
    body: envelope(0, Buffer.from("{}")),
    timeout: { "connect-timeout-ms": "400" },
  },
];

const rtcRequest = {
  request: { case: "rtc" as const, value: { channel: "c", uid: "7", role: RtcRole.PUBLISHER } },
};

describe("streaming calls (grpc.health.v1.Health/Watch)", () => {
  it("end at STREAMING_CALL_MAX_AGE_MS with unavailable, the protocol's own way, on every protocol and HTTP version", async () => {
    server = await startApp({
      STREAMING_CALL_MAX_AGE_MS: "800",
      // Once its request has arrived, an HTTP/2 stream is the call's to bound, not reset early.
      HEADERS_TIMEOUT_MS: "300",
      REQUEST_TIMEOUT_MS: "300",
    });
    const { baseUrl } = server;
    const ended = await Promise.all(
      watchTransports(baseUrl).map(async ([name, transport]) => [
        name,
        await watchUntilEnd(transport),
      ]),
    );
    for (const [name, end] of ended) {
      expect(end, String(name)).toMatchObject({
        statuses: ["SERVING"],
        code: "Unavailable",
        message:
          "the stream reached its maximum age of 800 ms (STREAMING_CALL_MAX_AGE_MS). Open a new one to go on",
      });
    }
    // Over HTTP/2 the stream closed cleanly (its status in trailers), not reset.
    const raw = await rawRequest(baseUrl, session(baseUrl), {
      httpVersion: "2",
      path: WATCH,
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(0, new Uint8Array()),
    });
    expect(rpcResult(raw)).toMatchObject({ messages: 1, code: "unavailable" });

    const health = healthClient(server.port);
    cleanUps.push(() => health.close());
    const watch = health.watch();
    expect(await watch.ended).toBe(grpc.status.UNAVAILABLE);
  });

  it.each(rawWatches.map((watch) => [watch.name, watch] as const))(
    "end past the client's deadline with deadline_exceeded over %s",
    async (_, { httpVersion, headers, body, timeout }) => {
      server = await startApp();
      const response = await rawRequest(
        server.baseUrl,
        httpVersion === "2" ? session(server.baseUrl) : undefined,
        { httpVersion, path: WATCH, headers: { ...headers, ...timeout }, body },
      );
      expect(response.status).toBe(200);
      expect(rpcResult(response)).toEqual({
        status: 200,
        messages: 1,
        code: "deadline_exceeded",
        message: "the operation timed out",
      });
    },
  );

  it("are refused past MAX_STREAMING_CALLS with resource_exhausted, while tokens are still minted on every protocol", async () => {
    server = await startApp({ MAX_STREAMING_CALLS: "3" });
    const { baseUrl, port } = server;
    const holder = new AbortController();
    cleanUps.push(() => holder.abort());
    const transports = watchTransports(baseUrl);
    const held = transports
      .slice(0, 3)
      .map(([, transport]) => watchUntilEnd(transport, holder.signal));
    // All three are open once the server counts them.
    await expect.poll(() => countOpen(server), { timeout: 5_000 }).toBe(3);

    for (const [name, transport] of transports) {
      const refused = await watchUntilEnd(transport);
      expect(refused, name).toEqual({
        statuses: [],
        code: "ResourceExhausted",
        message:
          "this server already has 3 streaming calls open (MAX_STREAMING_CALLS). Retry later",
      });
    }
    for (const client of allProtocolClients(baseUrl, port)) {
      cleanUps.push(() => client.close());
      const outcome = await client.getToken(rtcRequest);
      if (outcome.kind !== "ok") throw new Error(`${client.name}: ${JSON.stringify(outcome)}`);
      expect(decodeToken(outcome.response.token).services[0], client.name).toMatchObject({
        channel: "c",
        uid: "7",
      });
    }
    expect((await postLegacy(baseUrl, { tokenType: "rtm", uid: "alice" })).status).toBe(200);

    // Closing one makes room for another.
    holder.abort();
    await Promise.all(held);
    const again = new AbortController();
    cleanUps.push(() => again.abort());
    const next = watchUntilEnd(createGrpcTransport({ baseUrl }), again.signal);
    await expect.poll(() => countOpen(server), { timeout: 5_000 }).toBe(1);
    again.abort();
    expect(await next).toMatchObject({ statuses: ["SERVING"], code: "Canceled" });
  });
});

/** Streaming calls the server has open, as its metrics count requests in flight. */
async function countOpen(app: AppServer | undefined): Promise<number> {
  if (!app) return -1;
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
  let open = 0;
  for (const line of text.split("\n")) {
    const match = /^agora_token_requests_in_flight\{protocol="[^"]+"\} (\d+)/.exec(line);
    if (match) open += Number(match[1]);
  }
  // The scrape itself is in flight too.
  return open - 1;
}
