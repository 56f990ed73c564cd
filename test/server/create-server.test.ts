import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import {
  allProtocolClients,
  type CallOutcome,
  type GetTokenInit,
  type ProtocolClient,
  postLegacy,
} from "../support/clients.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let clients: ProtocolClient[];

beforeAll(async () => {
  server = await startTestServer();
  clients = allProtocolClients(server.baseUrl, server.port);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

function expectToken(outcome: CallOutcome) {
  if (outcome.kind !== "ok") throw new Error(`expected a token, got ${JSON.stringify(outcome)}`);
  const decoded = decodeToken(outcome.response.token);
  expect(decoded.appId).toBe(SAMPLE.appId);
  expect(decoded.signatureValid).toBe(true);
  // expires_at is exactly the issue time plus the token's lifetime.
  expect(Number(outcome.response.expiresAt?.seconds)).toBe(
    decoded.issuedAt + decoded.expireSeconds,
  );
  expect(Math.abs(decoded.issuedAt - Date.now() / 1000)).toBeLessThan(5);
  return decoded;
}

const clientNames = allProtocolClients("http://127.0.0.1:1", 1).map((client) => client.name);
const byName = (name: string) => {
  const client = clients.find((candidate) => candidate.name === name);
  if (!client) throw new Error(name);
  return client;
};

describe("createServer() serves GetToken on every protocol from one port", () => {
  describe.each(clientNames)("%s", (name) => {
    it("mints an RTC publisher token", async () => {
      const decoded = expectToken(
        await byName(name).getToken({
          request: {
            case: "rtc",
            value: {
              channel: "room 1",
              uid: "2882341273",
              role: RtcRole.PUBLISHER,
              expireSeconds: 600,
            },
          },
        }),
      );
      expect(decoded.expireSeconds).toBe(600);
      expect(decoded.services).toEqual([
        {
          type: 1,
          channel: "room 1",
          uid: "2882341273",
          privileges: privilegesFor([1, 2, 3, 4], 600),
        },
      ]);
    });

    it("mints an RTC subscriber token for any user with the default lifetime", async () => {
      const decoded = expectToken(
        await byName(name).getToken({
          request: { case: "rtc", value: { channel: "room", uid: "0", role: RtcRole.SUBSCRIBER } },
        }),
      );
      expect(decoded.expireSeconds).toBe(3600);
      expect(decoded.services).toEqual([
        { type: 1, channel: "room", uid: "", privileges: privilegesFor([1], 3600) },
      ]);
    });

    it("mints an RTM token with a stream channel", async () => {
      const decoded = expectToken(
        await byName(name).getToken({
          request: { case: "rtm", value: { uid: "alice", channel: "*", expireSeconds: 120 } },
        }),
      );
      expect(decoded.services).toEqual([
        { type: 1, channel: "*", uid: "alice", privileges: privilegesFor([1, 4], 120) },
        { type: 2, userId: "alice", privileges: privilegesFor([1], 120) },
      ]);
    });

    it("mints Chat user and app tokens", async () => {
      const user = expectToken(
        await byName(name).getToken({ request: { case: "chat", value: { uid: "bob" } } }),
      );
      expect(user.services).toEqual([
        { type: 5, userId: "bob", privileges: privilegesFor([1], 3600) },
      ]);
      const app = expectToken(
        await byName(name).getToken({ request: { case: "chat", value: {} } }),
      );
      expect(app.services).toEqual([{ type: 5, userId: "", privileges: privilegesFor([2], 3600) }]);
    });

    const badRequests: [string, GetTokenInit, RegExp][] = [
      ["no request at all", {}, /^request must set one of rtc or rtm or chat or rtc_rtm or agent$/],
      [
        "an 8 KiB channel",
        { request: { case: "rtc", value: { channel: "x".repeat(8192), uid: "a", role: 1 } } },
        /^rtc\.channel must be at most 64 bytes long/,
      ],
      [
        "an unspecified role",
        { request: { case: "rtc", value: { channel: "c", uid: "a" } } },
        /^rtc\.role is required/,
      ],
      [
        "an empty uid",
        { request: { case: "rtc", value: { channel: "c", uid: "", role: 2 } } },
        /^rtc\.uid is required/,
      ],
      [
        "a lifetime over 24 hours",
        {
          request: {
            case: "rtc",
            value: { channel: "c", uid: "a", role: 2, expireSeconds: 86_401 },
          },
        },
        /^rtc\.expire_seconds must be at most 86400 seconds/,
      ],
      [
        "a uid that would wrap in 32 bits is not the problem, a slash is",
        { request: { case: "rtm", value: { uid: "a/b" } } },
        // @grpc/grpc-js leaves "/" percent-encoded in grpc-message: the code point says it.
        /^rtm\.uid has the character "(\/|%2F)" \(Unicode 002F\) which is not in Agora's character set$/,
      ],
      [
        "a Chat uid with a space",
        { request: { case: "chat", value: { uid: "a b" } } },
        /^chat\.uid has the character Unicode 0020 \(space\) but may only have letters and digits/,
      ],
    ];
    it.each(badRequests)(
      "refuses %s with InvalidArgument naming the field",
      async (_, request, message) => {
        const outcome = await byName(name).getToken(request);
        expect(outcome).toMatchObject({ kind: "error", code: Code.InvalidArgument });
        if (outcome.kind === "error") expect(outcome.message).toMatch(message);
      },
    );

    it("refuses a message over the size limit with ResourceExhausted", async () => {
      const outcome = await byName(name).getToken({
        request: { case: "rtc", value: { channel: "x".repeat(65_536), uid: "a", role: 1 } },
      });
      expect(outcome).toMatchObject({ kind: "error", code: Code.ResourceExhausted });
    });
  });

  it("answers a wrong Connect request with a Connect error, not a crash", async () => {
    const response = await fetch(`${server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"rtc": {"channel": 5}}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("answers Connect JSON from curl-style requests with expiresAt as RFC 3339", async () => {
    const response = await fetch(`${server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        rtc: { channel: "c", uid: "7", role: "RTC_ROLE_PUBLISHER", expireSeconds: 60 },
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; expiresAt: string };
    const decoded = decodeToken(body.token);
    expect(Date.parse(body.expiresAt) / 1000).toBe(decoded.issuedAt + 60);
  });
});

describe("legacy POST /getToken", () => {
  it("mints the token the Go service's callers ask for", async () => {
    const { status, headers, json } = await postLegacy(server.baseUrl, {
      tokenType: "rtc",
      channel: "my-video-channel",
      role: "publisher",
      uid: "user123",
      expire: 3600,
    });
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(["token"]);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    const decoded = decodeToken(String(json.token));
    expect(decoded.signatureValid).toBe(true);
    expect(decoded.services).toEqual([
      {
        type: 1,
        channel: "my-video-channel",
        uid: "user123",
        privileges: privilegesFor([1, 2, 3, 4], 3600),
      },
    ]);
  });

  it.each([
    [
      { tokenType: "rtc", channel: "c", role: "subscriber", uid: 42 },
      [{ type: 1, channel: "c", uid: "42", privileges: privilegesFor([1], 3600) }],
    ],
    [
      { tokenType: "rtc", channel: "c", role: "subscriber", uid: 4294967296 },
      [{ type: 1, channel: "c", uid: "4294967296", privileges: privilegesFor([1], 3600) }],
    ],
    [
      { tokenType: "rtc", channel: "c", role: "subscriber", uid: "0", expire: 0 },
      [{ type: 1, channel: "c", uid: "", privileges: privilegesFor([1], 3600) }],
    ],
    [
      { tokenType: "rtm", uid: "alice", expire: 60 },
      [{ type: 2, userId: "alice", privileges: privilegesFor([1], 60) }],
    ],
    [
      { tokenType: "rtm", uid: "alice", channel: "s1", role: null, expire: null },
      [
        { type: 1, channel: "s1", uid: "alice", privileges: privilegesFor([1, 4], 3600) },
        { type: 2, userId: "alice", privileges: privilegesFor([1], 3600) },
      ],
    ],
    [
      { tokenType: "chat", uid: "bob" },
      [{ type: 5, userId: "bob", privileges: privilegesFor([1], 3600) }],
    ],
    [
      { tokenType: "chat", uid: null, somethingElse: true },
      [{ type: 5, userId: "", privileges: privilegesFor([2], 3600) }],
    ],
  ])("mints %j", async (body, services) => {
    const { status, json } = await postLegacy(server.baseUrl, body);
    expect(status).toBe(200);
    expect(decodeToken(String(json.token)).services).toEqual(services);
  });

  it.each([
    ["invalid JSON", "{", /^body ends at line 1 column 2 before the JSON document does\./],
    [
      "trailing garbage",
      '{"tokenType":"chat"} {"x":1}',
      /^body has more after the JSON document at line 1 column 22\./,
    ],
    ["an empty body", "", /^body is empty\./],
    ["a form-encoded body", "tokenType=chat&uid=bob", /^body is form-encoded/],
    ["a trailing comma", '{"tokenType":"chat",}', /^body has a trailing comma at line 1 column 20/],
    ["single quotes", "{'tokenType':'chat'}", /^body uses single quotes at line 1 column 2\./],
    [
      "a duplicate key",
      '{"tokenType":"rtc","channel":"c","role":"publisher","uid":"alice","uid":"0"}',
      /repeats the key "uid"/,
    ],
    [
      "a case-insensitive duplicate key",
      '{"tokenType":"chat","TokenType":"rtc"}',
      /^body has the keys "tokenType" and "TokenType", which differ only in letter case\./,
    ],
    ["an array", "[]", /must be a JSON object/],
    ["null", "null", /must be a JSON object/],
    ["no tokenType", { uid: "a" }, /^tokenType is required/],
    ["an unknown tokenType", { tokenType: "RTC" }, /^tokenType must be "rtc" or "rtm" or "chat"$/],
    ["a missing role", { tokenType: "rtc", channel: "c", uid: "a" }, /^role is required/],
    [
      "an unknown role",
      { tokenType: "rtc", channel: "c", uid: "a", role: "admin" },
      /^role must be "publisher" or "subscriber"$/,
    ],
    [
      "a numeric role",
      { tokenType: "rtc", channel: "c", uid: "a", role: 1 },
      /^role must be a string$/,
    ],
    [
      "a numeric channel",
      { tokenType: "rtc", channel: 5, uid: "a", role: "publisher" },
      /^channel must be a string$/,
    ],
    [
      "a negative uid",
      { tokenType: "rtc", channel: "c", uid: -1, role: "publisher" },
      /^uid must be a string or a non-negative integer$/,
    ],
    [
      "uid -0 (which would read as 0, any user)",
      '{"tokenType":"rtc","channel":"c","uid":-0,"role":"publisher"}',
      /^uid must be a string or a non-negative integer$/,
    ],
    [
      "a fractional uid",
      { tokenType: "rtc", channel: "c", uid: 1.5, role: "publisher" },
      /^uid must be a string or a non-negative integer$/,
    ],
    [
      "a uid beyond 2^53",
      '{"tokenType":"rtc","channel":"c","uid":18446744073709551616,"role":"publisher"}',
      /send larger uids as strings/,
    ],
    ["a missing uid", { tokenType: "rtc", channel: "c", role: "publisher" }, /^uid is required$/],
    [
      "expire -1",
      { tokenType: "rtc", channel: "c", uid: "a", role: "publisher", expire: -1 },
      /^expire must not be negative$/,
    ],
    [
      "expire 2^32",
      { tokenType: "rtc", channel: "c", uid: "a", role: "publisher", expire: 4294967296 },
      /^expire must be at most 86400 seconds/,
    ],
    [
      "expire over 24 hours",
      { tokenType: "rtm", uid: "a", expire: 86401 },
      /^expire must be at most 86400 seconds/,
    ],
    ["a string expire", { tokenType: "rtm", uid: "a", expire: "60" }, /^expire must be an integer/],
    [
      "a 64 KiB channel",
      { tokenType: "rtc", channel: "c".repeat(65_536 / 8), uid: "a", role: "publisher" },
      /^channel must be at most 64 bytes/,
    ],
    ["a missing RTM uid", { tokenType: "rtm" }, /^uid is required$/],
    ["RTM uid 0", { tokenType: "rtm", uid: 0 }, /^uid must name a user/],
  ])("answers 400 with a JSON error for %s", async (_, body, message) => {
    const { status, json } = await postLegacy(server.baseUrl, body);
    expect(status).toBe(400);
    expect(Object.keys(json)).toEqual(["error"]);
    expect(json.error).toMatch(message);
  });

  it("answers 413 with the JSON error shape for a body over the limit", async () => {
    const { status, json } = await postLegacy(server.baseUrl, {
      tokenType: "chat",
      pad: "x".repeat(30_000),
    });
    expect(status).toBe(413);
    expect(json).toEqual({ error: "body must be at most 20480 bytes" });
  });

  it("answers 405 with Allow for another method", async () => {
    const response = await fetch(`${server.baseUrl}/getToken`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toHaveProperty("error");
  });

  it("answers GET /ping with pong and unknown paths with a JSON 404", async () => {
    const ping = await fetch(`${server.baseUrl}/ping`);
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ message: "pong" });
    const missing = await fetch(`${server.baseUrl}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not found" });
  });
});
