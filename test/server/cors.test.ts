import { cors as connectCors } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const ALLOWED = "https://app.example.com";
const OTHER_ALLOWED = "http://localhost:3000";
const DISALLOWED = "https://evil.example.net";
const RPC = "/agora.token.v1.TokenService/GetToken";
const rtcBody = JSON.stringify({ rtc: { channel: "c", uid: "1", role: "RTC_ROLE_PUBLISHER" } });

function preflight(
  baseUrl: string,
  origin: string,
  headers = "content-type,connect-protocol-version",
) {
  return fetch(`${baseUrl}${RPC}`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": headers,
    },
  });
}

function post(baseUrl: string, headers: Record<string, string>) {
  return fetch(`${baseUrl}${RPC}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: rtcBody,
  });
}

describe("CORS with an allow-list", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ cors: { allowOrigin: [ALLOWED, OTHER_ALLOWED] } });
  });
  afterAll(() => server.close());

  it("always serves requests without an Origin (server-to-server callers)", async () => {
    const response = await post(server.baseUrl, {});
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const legacy = await fetch(`${server.baseUrl}/ping`);
    expect(legacy.status).toBe(200);
  });

  it("echoes an allowed origin with Vary and exposes the gRPC status headers", async () => {
    for (const origin of [ALLOWED, OTHER_ALLOWED]) {
      const response = await post(server.baseUrl, { Origin: origin });
      expect(response.status).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("vary")).toMatch(/Origin/);
      const exposed = response.headers.get("access-control-expose-headers")?.toLowerCase() ?? "";
      for (const header of [
        "grpc-status",
        "grpc-message",
        "grpc-status-details-bin",
        "retry-after",
        "www-authenticate",
      ]) {
        expect(exposed).toContain(header);
      }
    }
  });

  it("answers an allowed preflight with 204 and Connect's, gRPC-Web's and Authorization headers", async () => {
    const response = await preflight(server.baseUrl, ALLOWED, "authorization,x-grpc-web");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const allowedHeaders =
      response.headers.get("access-control-allow-headers")?.toLowerCase() ?? "";
    for (const header of [...connectCors.allowedHeaders, "Authorization"]) {
      expect(allowedHeaders).toContain(header.toLowerCase());
    }
    expect(response.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(response.headers.get("access-control-max-age")).toBe("7200");
  });

  it("answers a disallowed origin without any CORS headers", async () => {
    const response = await post(server.baseUrl, { Origin: DISALLOWED });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-expose-headers")).toBeNull();
    const check = await preflight(server.baseUrl, DISALLOWED);
    const corsHeaders = [...check.headers.keys()].filter((name) =>
      name.startsWith("access-control-allow"),
    );
    expect(corsHeaders).toEqual([]);
  });

  it("applies to the legacy route too", async () => {
    const response = await fetch(`${server.baseUrl}/getToken`, {
      method: "POST",
      headers: { Origin: ALLOWED },
      body: JSON.stringify({ tokenType: "chat" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });
});

describe("CORS with *", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ cors: { allowOrigin: "*" } });
  });
  afterAll(() => server.close());

  it("echoes any origin and says Vary: Origin", async () => {
    const response = await post(server.baseUrl, { Origin: DISALLOWED });
    expect(response.headers.get("access-control-allow-origin")).toBe(DISALLOWED);
    expect(response.headers.get("vary")).toMatch(/Origin/);
    expect((await preflight(server.baseUrl, DISALLOWED)).status).toBe(204);
  });
});

describe("CORS unset", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("allows no cross-origin access but still serves the request", async () => {
    const response = await post(server.baseUrl, { Origin: ALLOWED });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
