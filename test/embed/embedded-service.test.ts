import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { createTokenClient } from "../../src/client/create-token-client.js";
import { ConfigError } from "../../src/load-config.js";
import {
  createTokenRoutes,
  type TokenRoutesOptions,
} from "../../src/server/create-token-routes.js";
import { type AppServer, startApp } from "../support/app-server.js";
import {
  connectClient,
  grpcJsClient,
  type ProtocolClient,
  postLegacy,
} from "../support/clients.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import { type Host, startExpressHost, startFastifyHost } from "../support/embed-hosts.js";
import { healthClient } from "../support/health-client.js";

const API_KEY = "backend-key-0123456789";
const key = { "x-api-key": API_KEY };
const base: TokenRoutesOptions = {
  credentials: SAMPLE,
  apiKeys: [{ name: "backend", key: API_KEY }],
};
const rtcRequest = {
  request: {
    case: "rtc" as const,
    value: { channel: "stage", uid: "1001", role: RtcRole.PUBLISHER, expireSeconds: 900 },
  },
};

/** Every client a host can serve: gRPC only where it speaks HTTP/2, HTTP/1.1 only where not. */
function clientsOf(host: Host): ProtocolClient[] {
  const { baseUrl } = host;
  if (host.name.includes("h2c")) {
    return [
      grpcJsClient(host.port),
      connectClient("grpc (connect-node)", createGrpcTransport({ baseUrl })),
      connectClient("connect json http/2", createConnectTransport({ baseUrl, httpVersion: "2" })),
      connectClient(
        "connect binary http/2",
        createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
      ),
      connectClient("grpc-web http/2", createGrpcWebTransport({ baseUrl, httpVersion: "2" })),
    ];
  }
  return [
    connectClient("connect json", createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    connectClient(
      "connect binary",
      createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    ),
    connectClient("grpc-web", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })),
  ];
}

describe("the token routes in Express and Fastify apps", () => {
  let hosts: Host[];
  beforeAll(async () => {
    hosts = await Promise.all([
      startExpressHost(base),
      startFastifyHost(base),
      startFastifyHost(base, { http2: true }),
    ]);
  });
  afterAll(() => Promise.all((hosts ?? []).map((host) => host.close())));
  const each = (name: string, test: (host: Host) => Promise<void>) =>
    it.each(["express", "fastify", "fastify (h2c)"])(`${name} (%s)`, (hostName) =>
      test(hosts.find((host) => host.name === hostName) as Host),
    );

  each("mint over every protocol the host serves, as the caller asked", async (host) => {
    for (const client of clientsOf(host)) {
      const outcome = await client.getToken(rtcRequest, key);
      if (outcome.kind !== "ok") throw new Error(`${client.name}: ${JSON.stringify(outcome)}`);
      const token = decodeToken(outcome.response.token);
      expect({ client: client.name, ...token }).toMatchObject({
        client: client.name,
        appId: SAMPLE.appId,
        signatureValid: true,
        expireSeconds: 900,
        services: [
          { type: 1, channel: "stage", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 900) },
        ],
      });
      const refused = await client.getToken(rtcRequest);
      client.close();
      expect(refused).toMatchObject({ kind: "error", code: Code.Unauthenticated });
    }
  });

  each("serve the shipped client and the legacy routes on the host's port", async (host) => {
    const client = createTokenClient({
      baseUrl: host.baseUrl,
      apiKey: API_KEY,
      ...(host.name.includes("h2c") ? { protocol: "grpc" as const } : {}),
    });
    const { token } = await client
      .inspectToken({
        token: (await client.getToken({ request: { case: "chat", value: { uid: "bob" } } })).token,
      })
      .then(async (inspection) => {
        expect(inspection.services[0]).toMatchObject({ userId: "bob" });
        return client.getToken({ request: { case: "rtm", value: { uid: "bob" } } });
      });
    expect(decodeToken(token).services).toEqual([
      { type: 2, userId: "bob", privileges: privilegesFor([1], 3600) },
    ]);
    if (host.name.includes("h2c")) return; // fetch speaks no h2c: same-answers.test.ts covers it
    const legacy = await postLegacy(
      host.baseUrl,
      { tokenType: "rtc", channel: "stage", role: "subscriber", uid: "7" },
      { headers: { "Content-Type": "application/json", ...key } },
    );
    expect(legacy.status).toBe(200);
    expect(decodeToken(String(legacy.json.token)).services).toEqual([
      { type: 1, channel: "stage", uid: "7", privileges: privilegesFor([1], 3600) },
    ]);
    const rte = await fetch(`${host.baseUrl}/rte/stage/publisher/uid/7/`, { headers: key });
    const tokens = (await rte.json()) as { rtcToken: string; rtmToken: string };
    expect(decodeToken(tokens.rtmToken).services).toEqual([
      { type: 2, userId: "7", privileges: privilegesFor([1], 3600) },
    ]);
  });

  each("keep the host's own routes and body parsing working beside them", async (host) => {
    if (host.name.includes("h2c")) {
      const health = healthClient(host.port);
      expect(await health.check()).toEqual({ kind: "ok", status: "SERVING" });
      health.close();
      return;
    }
    const room = await fetch(`${host.baseUrl}/rooms`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "green" }),
    });
    expect({ status: room.status, body: await room.json() }).toEqual({
      status: 201,
      body: { room: "green" },
    });
    const hello = await fetch(`${host.baseUrl}/hello`);
    expect(await hello.json()).toEqual({ hello: host.name });
    // The host's own 404, without the token routes' headers.
    const missing = await fetch(`${host.baseUrl}/nowhere`, {
      headers: { origin: "https://a.test" },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("cache-control")).toBeNull();
    expect(missing.headers.get("vary")).toBeNull();
  });

  each("log each token request with its protocol, route and caller", async (host) => {
    const client = clientsOf(host)[0] as ProtocolClient;
    await client.getToken(rtcRequest, { ...key, "x-request-id": `embed-${host.port}` });
    client.close();
    await expect
      .poll(() => host.logLines().find((line) => line.requestId === `embed-${host.port}`))
      .toMatchObject({
        msg: "request",
        route: "/agora.token.v1.TokenService/GetToken",
        tokenKind: "rtc",
        caller: "api key backend",
        code: "ok",
      });
    const scrape = await host.tokens.metrics.registry.getSingleMetricAsString(
      "agora_token_requests_total",
    );
    expect(scrape).toMatch(/agora_token_requests_total\{[^}]*code="ok"[^}]*\} [1-9]/);
  });
});

describe("rate limits in an embedded service", () => {
  let standalone: AppServer;
  let hosts: Host[];
  beforeAll(async () => {
    const rateLimit = { perMinute: 1, burst: 2 };
    standalone = await startApp({
      API_KEYS: `backend:${API_KEY}`,
      RATE_LIMIT_PER_MINUTE: "1",
      RATE_LIMIT_BURST: "2",
    });
    hosts = await Promise.all([
      startExpressHost({ ...base, rateLimit }),
      startFastifyHost({ ...base, rateLimit }),
    ]);
  });
  afterAll(() => Promise.all([standalone?.close(), ...(hosts ?? []).map((host) => host.close())]));

  it("refuse the caller past its burst with 429 and Retry-After, as the standalone service does", async () => {
    const seen: Record<string, unknown[]> = {};
    for (const server of [standalone, ...hosts]) {
      const name = "name" in server ? server.name : "standalone";
      const client = connectClient(
        name,
        createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      );
      const answers: unknown[] = [];
      answers.push((await client.getToken(rtcRequest, key)).kind);
      const legacy = await postLegacy(
        server.baseUrl,
        { tokenType: "chat", uid: "bob" },
        { headers: { "Content-Type": "application/json", ...key } },
      );
      answers.push(legacy.status);
      const limited = await client.getToken(rtcRequest, key);
      answers.push(
        limited.kind === "error" && { code: Code[limited.code], message: limited.message },
      );
      const retryAfter = limited.kind === "error" ? Number(limited.metadata.get("retry-after")) : 0;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const limitedLegacy = await postLegacy(
        server.baseUrl,
        { tokenType: "chat", uid: "bob" },
        { headers: { "Content-Type": "application/json", ...key } },
      );
      answers.push(limitedLegacy.status, Number(limitedLegacy.headers.get("retry-after")) > 0);
      seen[name] = answers;
    }
    expect(seen.standalone).toEqual([
      "ok",
      200,
      {
        code: "ResourceExhausted",
        message: expect.stringMatching(
          /^too many requests from this caller\. Retry after \d+ seconds?$/,
        ),
      },
      429,
      true,
    ]);
    expect(seen.express).toEqual(seen.standalone);
    expect(seen.fastify).toEqual(seen.standalone);
  });
});

describe("streaming calls in an embedded service", () => {
  const opened: Host[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((host) => host.close()));
  });
  const limits = { maxStreamingCalls: 1, streamingCallMaxAgeMs: 400 };

  async function watch(transport: Transport, signal?: AbortSignal, statuses: string[] = []) {
    try {
      for await (const { status } of createClient(Health, transport).watch(
        { service: "" },
        signal ? { signal } : {},
      )) {
        statuses.push(HealthCheckResponse_ServingStatus[status]);
      }
      return { statuses, code: "ok" };
    } catch (error) {
      return { statuses, code: Code[ConnectError.from(error).code] };
    }
  }

  it.each([
    ["express", "Connect", false],
    ["fastify", "gRPC-Web", false],
    ["fastify (h2c)", "gRPC", true],
  ] as const)(
    "%s bounds Watch over %s: one at a time, ended with Unavailable at its maximum age",
    async (hostName, protocol, http2) => {
      const host =
        hostName === "express"
          ? await startExpressHost({ ...base, limits })
          : await startFastifyHost({ ...base, limits }, { http2 });
      opened.push(host);
      const { baseUrl } = host;
      const transport =
        protocol === "Connect"
          ? createConnectTransport({ baseUrl, httpVersion: "1.1" })
          : protocol === "gRPC-Web"
            ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })
            : createGrpcTransport({ baseUrl });
      const firstStatuses: string[] = [];
      const first = watch(transport, undefined, firstStatuses);
      // Once the first stream has sent its status, a second one is refused.
      await expect.poll(() => firstStatuses.length).toBe(1);
      expect(await watch(transport)).toEqual({ statuses: [], code: "ResourceExhausted" });
      expect(await first).toEqual({ statuses: ["SERVING"], code: "Unavailable" });
      // Its slot is free again; unary calls were never counted.
      const client = connectClient(protocol, transport);
      expect((await client.getToken(rtcRequest, key)).kind).toBe("ok");
      const controller = new AbortController();
      const againStatuses: string[] = [];
      const again = watch(transport, controller.signal, againStatuses);
      await expect.poll(() => againStatuses.length).toBe(1);
      controller.abort();
      expect(await again).toEqual({ statuses: ["SERVING"], code: "Canceled" });
    },
  );

  it("turns gRPC health and /readyz unready on close()", async () => {
    const host = await startExpressHost(base);
    opened.push(host);
    await host.tokens.close();
    const ready = await fetch(`${host.baseUrl}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({
      status: 503,
      body: { status: "not ready", reasons: ["shutting down"] },
    });
    const health = createClient(
      Health,
      createConnectTransport({ baseUrl: host.baseUrl, httpVersion: "1.1" }),
    );
    expect((await health.check({ service: "" })).status).toBe(
      HealthCheckResponse_ServingStatus.NOT_SERVING,
    );
  });
});

describe("createTokenRoutes() options", () => {
  const problemsOf = (options: unknown) => {
    try {
      createTokenRoutes(options as TokenRoutesOptions);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("names every wrong option by its path, by the standalone service's rules", () => {
    expect(
      problemsOf({
        credentials: { appId: "abc", appCertificate: SAMPLE.appCertificate },
        apiKeys: [{ name: "web", key: "short" }],
        rateLimit: { perMinute: -1, burst: 1.5 },
        cors: { allowOrigin: ["https://app.example.com/"] },
        limits: { maxBodyBytes: 10, maxStreamingcalls: 5 },
        jwt: { issuer: "https://id.example" },
        trustProxy: "yes",
        rateLimits: {},
      }),
    ).toEqual([
      "rateLimits is no option",
      "limits.maxStreamingcalls is no option",
      "trustProxy must be false, true or a number of proxies from 1 to 10",
      "apiKeys entry 1 (web) needs a key of 16 to 512 printable characters without spaces (got 5 characters)",
      "credentials.appId must be exactly 32 hexadecimal characters (got 3 characters)",
      'cors.allowOrigin entry "https://app.example.com/" must be an origin (scheme://host[:port]) with nothing after it, not "/". Write https://app.example.com',
      "limits.maxBodyBytes must be a whole number from 64 to 16777216",
      "jwt.issuer is set but neither jwt.jwksUrl nor jwt.publicKey is",
      "rateLimit.perMinute must be a whole number from 1 to 1000000",
      "rateLimit.burst must be a whole number from 1 to 1000000",
    ]);
  });

  it("requires the credentials and never reads them from the environment", () => {
    const saved = { ...process.env };
    process.env.APP_ID = SAMPLE.appId;
    process.env.APP_CERTIFICATE = SAMPLE.appCertificate;
    try {
      expect(problemsOf({ credentials: {} })).toEqual([
        "credentials.appId and credentials.appCertificate are required",
      ]);
      expect(problemsOf({ credentials: { appId: SAMPLE.appId } })).toEqual([
        "credentials.appCertificate is not set but the other credential is",
      ]);
      expect(problemsOf({ ...base, jwt: {} })).toEqual([
        "jwt needs jwt.jwksUrl or jwt.publicKey, jwt.issuer and jwt.audience",
      ]);
    } finally {
      process.env = saved;
    }
  });
});

describe("a host that parses bodies before the token routes", () => {
  let host: Host;
  const errors: unknown[] = [];
  beforeAll(async () => {
    host = await startExpressHost(
      { ...base, onInternalError: (error) => errors.push(error) },
      { bodyParserFirst: true },
    );
  });
  afterAll(() => host?.close());

  it("still refuses unknown fields on Connect, and still mints", async () => {
    const client = connectClient(
      "connect",
      createConnectTransport({ baseUrl: host.baseUrl, httpVersion: "1.1" }),
    );
    expect((await client.getToken(rtcRequest, key)).kind).toBe("ok");
    const response = await fetch(`${host.baseUrl}/agora.token.v1.TokenService/GetToken`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...key },
      body: JSON.stringify({
        rtc: { channel: "c", uid: "1", role: "RTC_ROLE_PUBLISHER", expire: 1 },
      }),
    });
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 400,
      body: {
        code: "invalid_argument",
        message:
          'rtc has no field "expire" (its fields are channel uid role expire_seconds privilege_expire_seconds privilege_expiry)',
      },
    });
  });

  it("answers the legacy POST /getToken 500 and says why to the log, never hangs", async () => {
    const legacy = await postLegacy(
      host.baseUrl,
      { tokenType: "chat" },
      { headers: { "Content-Type": "application/json", ...key } },
    );
    expect(legacy).toMatchObject({ status: 500, json: { error: "internal error" } });
    expect(String(errors.at(-1))).toMatch(
      /\/getToken: a body parser read the request before the token routes: mount them first/,
    );
  });
});
