import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  RtcRole,
} from "../../gen/agora/token/v1/token_service_pb.js";
import type { TokenRoutesOptions } from "../../src/server/create-token-routes.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { type Host, startExpressHost, startFastifyHost } from "../support/embed-hosts.js";
import { makeSigningKey, signJwt } from "../support/jwks-server.js";
import {
  envelope,
  GET_TOKEN_PATH,
  paddedMessage,
  type RawRequest,
  type RawResponse,
  rawRequest,
  rpcResult,
} from "../support/raw-rpc.js";

const API_KEY = "web-key-0123456789abcdef";
const ISSUER = "https://id.example.test/";
const AUDIENCE = "agora-tokens";
const ORIGIN = "https://app.example.test";
const MAX_BODY_BYTES = 4096;

const utf8 = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => utf8(JSON.stringify(value));
const rtcJson = (channel: string, uid: string, role = "RTC_ROLE_PUBLISHER") => ({
  rtc: { channel, uid, role },
});
const rtcBinary = (role = RtcRole.PUBLISHER) =>
  toBinary(
    GetTokenRequestSchema,
    create(GetTokenRequestSchema, {
      request: { case: "rtc", value: { channel: "team-red", uid: "42", role } },
    }),
  );
const key = { "x-api-key": API_KEY };

/** A request, and the status (and Connect code, or "error" for a legacy one) it must get. */
type Case = [
  name: string,
  expected: string,
  request: (jwt: string) => Omit<RawRequest, "httpVersion">,
];

const connect = (body: Uint8Array, headers: Record<string, string> = {}) => ({
  headers: { "content-type": "application/json", ...headers },
  body,
});
const grpcWeb = (body: Uint8Array, headers: Record<string, string> = {}) => ({
  headers: { "content-type": "application/grpc-web+proto", ...headers },
  body,
});
const legacy = (path: string, body?: Uint8Array, headers: Record<string, string> = {}) => ({
  path,
  method: body === undefined ? "GET" : "POST",
  headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
  ...(body !== undefined && { body }),
});

/** Requests every host must answer as the standalone service does, on HTTP/1.1 and HTTP/2. */
const CASES: Case[] = [
  ["Connect JSON with an API key", "200", () => connect(json(rtcJson("team-red", "42")), key)],
  [
    "Connect JSON without credentials",
    "401 unauthenticated",
    () => connect(json(rtcJson("team-red", "42"))),
  ],
  [
    "Connect JSON with an API key and a JWT",
    "401 unauthenticated",
    (jwt) => connect(json(rtcJson("team-red", "42")), { ...key, authorization: `Bearer ${jwt}` }),
  ],
  [
    "Connect JSON, a user's JWT for their own uid in an allowed channel",
    "200",
    (jwt) => connect(json(rtcJson("team-red", "alice")), { authorization: `Bearer ${jwt}` }),
  ],
  [
    "Connect JSON, a user's JWT for a channel it may not join",
    "403 permission_denied",
    (jwt) => connect(json(rtcJson("blue", "alice")), { authorization: `Bearer ${jwt}` }),
  ],
  [
    "Connect JSON without a role",
    "400 invalid_argument",
    () => connect(json({ rtc: { channel: "team-red", uid: "42" } }), key),
  ],
  [
    "Connect JSON with a field the proto lacks",
    "400 invalid_argument",
    () => connect(json({ ...rtcJson("team-red", "42"), expire: 60 }), key),
  ],
  [
    "Connect JSON repeating a key",
    "400 invalid_argument",
    () => connect(utf8('{"rtc":{"channel":"a","channel":"team-red","uid":"42"}}'), key),
  ],
  [
    "Connect JSON, gzip",
    "200",
    () =>
      connect(gzipSync(json(rtcJson("team-red", "42"))), { ...key, "content-encoding": "gzip" }),
  ],
  [
    "Connect JSON, brotli",
    "501 unimplemented",
    () => connect(json(rtcJson("team-red", "42")), { ...key, "content-encoding": "br" }),
  ],
  [
    "Connect JSON over maxBodyBytes",
    "429 resource_exhausted",
    () => connect(json({ rtc: { channel: "x".repeat(MAX_BODY_BYTES), uid: "1" } }), key),
  ],
  [
    "Connect binary",
    "200 ok",
    () => ({ headers: { "content-type": "application/proto", ...key }, body: rtcBinary() }),
  ],
  ["gRPC-Web", "200 ok", () => grpcWeb(envelope(0, rtcBinary()), key)],
  [
    "gRPC-Web without a role",
    "200 invalid_argument",
    () => grpcWeb(envelope(0, rtcBinary(RtcRole.UNSPECIFIED)), key),
  ],
  [
    "gRPC-Web with two messages",
    "200 invalid_argument",
    () => grpcWeb(Buffer.concat([envelope(0, rtcBinary()), envelope(0, rtcBinary())]), key),
  ],
  [
    "gRPC-Web announcing a message over maxBodyBytes",
    "200 resource_exhausted",
    () => grpcWeb(envelope(0, paddedMessage(rtcBinary(), MAX_BODY_BYTES + 1)), key),
  ],
  [
    "an unknown method of TokenService",
    "501 unimplemented",
    () => ({ ...connect(json({}), key), path: "/agora.token.v1.TokenService/Nope" }),
  ],
  ["GET on GetToken", "405", () => ({ method: "GET", path: GET_TOKEN_PATH, headers: key })],
  [
    "a preflight from an allowed origin",
    "204",
    () => ({
      method: "OPTIONS",
      path: GET_TOKEN_PATH,
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    }),
  ],
  [
    "a preflight from another origin",
    "204",
    () => ({
      method: "OPTIONS",
      path: "/getToken",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    }),
  ],
  [
    "a call from an allowed origin",
    "200",
    () => connect(json(rtcJson("team-red", "42")), { ...key, origin: ORIGIN }),
  ],
  [
    "legacy POST /getToken",
    "200",
    () =>
      legacy(
        "/getToken",
        json({ tokenType: "rtc", channel: "c", role: "subscriber", uid: 7, expire: 600 }),
        key,
      ),
  ],
  [
    "legacy POST /getToken without credentials",
    "401 error",
    () => legacy("/getToken", json({ tokenType: "rtm", uid: "bob" })),
  ],
  [
    "legacy POST /getToken with trailing garbage",
    "400 error",
    () => legacy("/getToken", utf8('{"tokenType":"chat"} x'), key),
  ],
  [
    "legacy POST /getToken repeating a key",
    "400 error",
    () => legacy("/getToken", utf8('{"tokenType":"chat","uid":"a","uid":"b"}'), key),
  ],
  [
    "legacy POST /getToken over maxBodyBytes",
    "413 error",
    () => legacy("/getToken", json({ tokenType: "chat", uid: "x".repeat(MAX_BODY_BYTES) }), key),
  ],
  [
    "legacy POST /getToken with an unknown role",
    "400 error",
    () =>
      legacy("/getToken", json({ tokenType: "rtc", channel: "c", role: "admin", uid: "1" }), key),
  ],
  [
    "legacy GET /rtc route",
    "200",
    () => legacy("/rtc/team-red/publisher/uid/42/?expiry=900", undefined, key),
  ],
  [
    "legacy GET /rte route",
    "200",
    () => legacy("/rte/team-red/subscriber/userAccount/alice", undefined, key),
  ],
  ["legacy GET /chat/app without credentials", "401 error", () => legacy("/chat/app")],
  [
    "legacy GET /rtc route with a uid over 32 bits",
    "400 error",
    () => legacy("/rtc/c/publisher/uid/4294967296", undefined, key),
  ],
  [
    "legacy PUT /getToken",
    "405 error",
    () => ({ ...legacy("/getToken", json({}), key), method: "PUT" }),
  ],
  [
    "legacy POST /inspectToken",
    "400 error",
    () => legacy("/inspectToken", json({ token: "007abc" }), key),
  ],
  ["GET /ping", "200", () => legacy("/ping")],
  ["GET /healthz", "200", () => legacy("/healthz")],
  ["GET /readyz", "200", () => legacy("/readyz")],
];

/** gRPC requests, for the hosts that serve HTTP/2. */
const GRPC_CASES: Case[] = [
  [
    "gRPC",
    "200 ok",
    () => ({
      headers: { "content-type": "application/grpc+proto", te: "trailers", ...key },
      body: envelope(0, rtcBinary()),
    }),
  ],
  [
    "gRPC without credentials",
    "200 unauthenticated",
    () => ({
      headers: { "content-type": "application/grpc+proto", te: "trailers" },
      body: envelope(0, rtcBinary()),
    }),
  ],
  [
    "gRPC without a role",
    "200 invalid_argument",
    () => ({
      headers: { "content-type": "application/grpc+proto", te: "trailers", ...key },
      body: envelope(0, rtcBinary(RtcRole.UNSPECIFIED)),
    }),
  ],
  [
    "gRPC marked brotli",
    "200 unimplemented",
    () => ({
      headers: { "content-type": "application/grpc+proto", "grpc-encoding": "br", ...key },
      body: envelope(1, rtcBinary()),
    }),
  ],
];

/** The headers the token service sets; the host's own (X-Powered-By, Date) are its business. */
const COMPARED_HEADERS = [
  "content-type",
  "cache-control",
  "www-authenticate",
  "retry-after",
  "allow",
  "vary",
  "access-control-allow-origin",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-expose-headers",
  "access-control-max-age",
  "connect-accept-encoding",
  "grpc-accept-encoding",
  "grpc-status",
  "grpc-message",
];

/** What a client can tell of an answer: tokens by what they grant, not by their bytes. */
function answerOf(response: RawResponse) {
  const headers: Record<string, string> = {};
  for (const name of COMPARED_HEADERS) {
    const value = response.headers[name] ?? response.trailers[name];
    if (value !== undefined) headers[name] = value;
  }
  const contentType = response.headers["content-type"] ?? "";
  let body: unknown;
  if (contentType.startsWith("application/json")) {
    body = JSON.parse(response.body.toString("utf8"), (name, value) =>
      typeof value === "string" && value.startsWith("007") && name !== "message" && name !== "error"
        ? grantOf(value)
        : name === "expiresAt" || name === "privilegesExpireAt"
          ? "time"
          : value,
    );
  } else if (contentType.startsWith("application/grpc") || contentType === "application/proto") {
    const result = rpcResult(response);
    const message =
      contentType === "application/proto"
        ? response.body
        : result.messages === 1
          ? response.body.subarray(5, 5 + response.body.readUInt32BE(1))
          : undefined;
    body = {
      ...result,
      ...(message && { grant: grantOf(fromBinary(GetTokenResponseSchema, message).token) }),
    };
  } else {
    body = response.body.toString("utf8");
  }
  return { status: response.status, headers, body };
}

function summaryOf(answer: ReturnType<typeof answerOf> | undefined): string {
  const body = answer?.body as { code?: string; error?: string; token?: unknown } | undefined;
  const code =
    typeof body === "object" && body !== null
      ? (body.code ?? (body.error !== undefined ? "error" : ""))
      : "";
  return `${answer?.status} ${code}`.trim();
}

function grantOf(token: string) {
  const decoded = decodeToken(token);
  return { signatureValid: decoded.signatureValid, services: decoded.services };
}

let jwt: string;
let standalone: AppServer;
let hosts: Host[];
let h2Hosts: { name: string; baseUrl: string }[];
let sessions: http2.ClientHttp2Session[] = [];

beforeAll(async () => {
  const signing = await makeSigningKey("k1", "ES256");
  const publicKey = await exportSPKI(signing.publicKey);
  jwt = await signJwt(signing, { iss: ISSUER, aud: AUDIENCE, sub: "alice", channels: ["team-*"] });
  standalone = await startApp({
    API_KEYS: `web:${API_KEY}`,
    JWT_PUBLIC_KEY: publicKey,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_CHANNELS_CLAIM: "channels",
    JWT_ADMIN_CLAIM: "admin",
    CORS_ALLOW_ORIGIN: ORIGIN,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
  const options: TokenRoutesOptions = {
    credentials: SAMPLE,
    apiKeys: [{ name: "web", key: API_KEY }],
    jwt: {
      publicKey,
      issuer: ISSUER,
      audience: AUDIENCE,
      channelsClaim: "channels",
      adminClaim: "admin",
    },
    cors: { allowOrigin: [ORIGIN] },
    limits: { maxBodyBytes: MAX_BODY_BYTES },
  };
  hosts = await Promise.all([
    startExpressHost(options),
    startFastifyHost(options),
    startFastifyHost(options, { http2: true }),
  ]);
  h2Hosts = [standalone, ...hosts.filter((host) => host.name.includes("h2c"))].map((server) => ({
    name: "name" in server ? server.name : "standalone",
    baseUrl: server.baseUrl,
  }));
}, 60_000);

afterAll(async () => {
  for (const session of sessions) session.close();
  await Promise.all([standalone?.close(), ...(hosts ?? []).map((host) => host.close())]);
});

async function askAll(
  targets: { name: string; baseUrl: string }[],
  httpVersion: "1.1" | "2",
  request: Omit<RawRequest, "httpVersion">,
) {
  const answers: Record<string, ReturnType<typeof answerOf>> = {};
  for (const target of targets) {
    const session = httpVersion === "2" ? http2.connect(target.baseUrl) : undefined;
    if (session) sessions.push(session);
    answers[target.name] = answerOf(
      await rawRequest(target.baseUrl, session, { httpVersion, ...request }),
    );
    session?.close();
  }
  sessions = sessions.filter((session) => !session.closed);
  return answers;
}

describe("the token routes embedded in Express and Fastify", () => {
  it.each(CASES)(
    "answer %s (%s) over HTTP/1.1 as the standalone service does",
    async (_, expected, request) => {
      const h1 = [
        { name: "standalone", baseUrl: standalone.baseUrl },
        ...hosts.filter((host) => !host.name.includes("h2c")),
      ];
      const answers = await askAll(h1, "1.1", request(jwt));
      expect(summaryOf(answers.standalone)).toBe(expected);
      for (const host of h1.slice(1)) {
        expect({ host: host.name, ...answers[host.name] }).toEqual({
          host: host.name,
          ...answers.standalone,
        });
      }
    },
  );

  it.each([...CASES, ...GRPC_CASES])(
    "answer %s (%s) over HTTP/2 on Fastify as the standalone service does",
    async (_, expected, request) => {
      const answers = await askAll(h2Hosts, "2", request(jwt));
      expect(summaryOf(answers.standalone)).toBe(expected);
      expect(answers["fastify (h2c)"]).toEqual(answers.standalone);
    },
  );
});
