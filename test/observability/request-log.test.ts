import { createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RtcRole, TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import {
  allProtocolClients,
  type GetTokenInit,
  type ProtocolClient,
  postLegacy,
} from "../support/clients.js";
import { SAMPLE } from "../support/decode-token.js";

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiaWxsaW5nLXNlcnZpY2UifQ.c2VjcmV0LXNpZ25hdHVyZQ";
const API_KEY = "atk_live_9f8e7d6c5b4a39281706";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const rtcRequest: GetTokenInit = {
  request: {
    case: "rtc",
    value: { channel: "logged", uid: "42", role: RtcRole.PUBLISHER, expireSeconds: 600 },
  },
};

let server: AppServer;
let clients: ProtocolClient[];

beforeAll(async () => {
  server = await startApp({ MAX_BODY_BYTES: "4096" });
  clients = allProtocolClients(server.baseUrl, server.port);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

function requestLines() {
  return server.logLines().filter((line) => line.msg === "request");
}

/** Runs `send` and returns the one request log line it caused. */
async function lineOf(send: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const before = requestLines().length;
  await send();
  // The line is written when the server finishes the response, which a client may see first.
  await vi.waitFor(() => expect(requestLines().length).toBe(before + 1), { timeout: 5_000 });
  const line = requestLines()[before];
  if (!line) throw new Error("no log line");
  return line;
}

function expectedProtocol(clientName: string): string {
  if (clientName.startsWith("grpc-web")) return "grpc-web";
  if (clientName.startsWith("grpc")) return "grpc";
  return "connect";
}

/** Connect-node clients for each protocol, sending `headers` with every call. */
function transports(): Array<[string, Transport]> {
  const baseUrl = server.baseUrl;
  return [
    ["grpc", createGrpcTransport({ baseUrl })],
    ["grpc-web", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
    ["connect", createConnectTransport({ baseUrl, httpVersion: "1.1" })],
    ["connect", createConnectTransport({ baseUrl, httpVersion: "2" })],
  ];
}

describe("request logs", () => {
  it("write one line per RPC with id, protocol, method, token kind, status, code and latency", async () => {
    for (const client of clients) {
      const line = await lineOf(() => client.getToken(rtcRequest));
      expect(line, client.name).toMatchObject({
        level: "info",
        protocol: expectedProtocol(client.name),
        route: "/agora.token.v1.TokenService/GetToken",
        tokenKind: "rtc",
        status: 200,
        code: "ok",
      });
      expect(line.requestId).toMatch(UUID);
      expect(line.latencyMs).toBeTypeOf("number");
      expect(line.latencyMs).toBeGreaterThanOrEqual(0);
      expect(line.time).toBeTypeOf("string");
    }
  });

  it("name the legacy route by its pattern, with every kind of token it minted", async () => {
    const post = await lineOf(() =>
      postLegacy(server.baseUrl, { tokenType: "chat", uid: "alice", expire: 60 }),
    );
    expect(post).toMatchObject({
      protocol: "legacy",
      httpMethod: "POST",
      route: "/getToken",
      tokenKind: "chat",
      status: 200,
      code: "ok",
    });
    const rte = await lineOf(() => fetch(`${server.baseUrl}/rte/room/publisher/uid/7/bob/`));
    expect(rte).toMatchObject({
      protocol: "legacy",
      httpMethod: "GET",
      route: "/rte/:channel/:role/:tokenType/:rtcuid/:rtmuid",
      tokenKind: "rtc+rtm",
      status: 200,
      code: "ok",
    });
    const unknown = await lineOf(() => fetch(`${server.baseUrl}/nowhere`));
    expect(unknown).toMatchObject({ route: "/nowhere", tokenKind: "none", status: 404 });
  });

  it("carry the code each protocol answered, also for errors raised before the handler runs", async () => {
    const invalid: GetTokenInit = {
      request: { case: "rtc", value: { channel: "c", uid: "1" } },
    };
    const tooLarge: GetTokenInit = {
      request: { case: "rtc", value: { channel: "x".repeat(8_000), uid: "1", role: 1 } },
    };
    for (const client of clients) {
      const invalidLine = await lineOf(() => client.getToken(invalid));
      expect(invalidLine, client.name).toMatchObject({
        protocol: expectedProtocol(client.name),
        code: "invalid_argument",
        tokenKind: "rtc",
      });
      // Connect rejects the message while reading it: no interceptor or handler sees it.
      const tooLargeLine = await lineOf(() => client.getToken(tooLarge));
      expect(tooLargeLine, client.name).toMatchObject({
        protocol: expectedProtocol(client.name),
        code: "resource_exhausted",
        tokenKind: "none",
      });
    }
    const legacyInvalid = await lineOf(() =>
      postLegacy(server.baseUrl, { tokenType: "rtc", channel: "c", uid: "1" }),
    );
    expect(legacyInvalid).toMatchObject({ status: 400, code: "invalid_argument" });
  });

  it("take the request id from X-Request-Id and echo it back, or make one", async () => {
    const given = "req-7f3a.checkout:42";
    let echoed: string | null = null;
    const line = await lineOf(async () => {
      const response = await fetch(`${server.baseUrl}/ping`, {
        headers: { "X-Request-Id": given },
      });
      echoed = response.headers.get("x-request-id");
    });
    expect(echoed).toBe(given);
    expect(line.requestId).toBe(given);

    for (const bad of [undefined, "has spaces in it", "x".repeat(129)]) {
      let made: string | null = null;
      const madeLine = await lineOf(async () => {
        const response = await fetch(`${server.baseUrl}/ping`, {
          headers: bad === undefined ? {} : { "X-Request-Id": bad },
        });
        made = response.headers.get("x-request-id");
      });
      expect(made).toMatch(UUID);
      expect(madeLine.requestId).toBe(made);
    }

    // gRPC callers get it back as response metadata.
    const client = createClient(TokenService, createGrpcTransport({ baseUrl: server.baseUrl }));
    let metadata: string | null = null;
    const grpcLine = await lineOf(() =>
      client.getToken(rtcRequest, {
        headers: { "X-Request-Id": "grpc-call-1" },
        onHeader: (headers) => {
          metadata = headers.get("x-request-id");
        },
      }),
    );
    expect(metadata).toBe("grpc-call-1");
    expect(grpcLine.requestId).toBe("grpc-call-1");
  });
});

describe("request logs with API keys", () => {
  let openServer: AppServer;
  beforeAll(async () => {
    openServer = server;
    server = await startApp({ API_KEYS: `billing-service:${API_KEY}` });
  });
  afterAll(async () => {
    await server.close();
    server = openServer;
  });

  it("name the authenticated caller and never contain the token, certificate, API key or JWT", async () => {
    const headers = { Authorization: `Bearer ${API_KEY}`, "X-API-Key": API_KEY };
    // Refused (the Bearer credential names no caller), and logged without the JWT.
    const withJwt = { Authorization: `Bearer ${JWT}`, "X-API-Key": API_KEY };
    const tokens: string[] = [];
    for (const [protocol, transport] of transports()) {
      const client = createClient(TokenService, transport);
      const line = await lineOf(async () => {
        tokens.push((await client.getToken(rtcRequest, { headers })).token);
      });
      expect(line).toMatchObject({ protocol, caller: "api key billing-service", code: "ok" });
      // A failed call is logged too, and must not echo what the caller sent either.
      await lineOf(() =>
        client
          .getToken({ request: { case: "rtm", value: { uid: API_KEY.repeat(3) } } }, { headers })
          .catch(() => {}),
      );
      const refused = await lineOf(() =>
        client.getToken(rtcRequest, { headers: withJwt }).catch(() => {}),
      );
      expect(refused).toMatchObject({ protocol, code: "unauthenticated" });
    }
    const [, anonymousTransport] = transports()[0] ?? [];
    if (!anonymousTransport) throw new Error("no transport");
    const anonymous = await lineOf(() =>
      createClient(TokenService, anonymousTransport)
        .getToken(rtcRequest)
        .catch(() => {}),
    );
    expect(anonymous).toMatchObject({ code: "unauthenticated" });
    expect(anonymous).not.toHaveProperty("caller");

    await lineOf(async () => {
      const legacy = await postLegacy(
        server.baseUrl,
        { tokenType: "rtm", uid: "alice" },
        { headers: { "Content-Type": "application/json", ...headers } },
      );
      tokens.push(String(legacy.json.token));
    });
    await lineOf(async () => {
      const response = await fetch(`${server.baseUrl}/rtm/alice/`, { headers });
      tokens.push(String(((await response.json()) as { rtmToken: string }).rtmToken));
    });

    const logged = server.logText();
    expect(tokens).toHaveLength(6);
    for (const token of tokens) {
      expect(token).toMatch(/^007/);
      expect(logged).not.toContain(token);
    }
    for (const secret of [SAMPLE.appCertificate, JWT, API_KEY]) {
      expect(logged.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    // The parts of the JWT on their own, too (header, claims, signature).
    for (const part of JWT.split(".")) expect(logged).not.toContain(part);
  });
});
