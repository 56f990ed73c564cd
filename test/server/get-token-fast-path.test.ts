import * as http2 from "node:http2";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  RtcRole,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { createServer } from "../../src/server/create-server.js";
import type { CallGuard } from "../../src/service/call-guard.js";
import { createTokenService } from "../../src/service/create-token-service.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import {
  envelope,
  type RawRequest,
  type RawResponse,
  rawRequest,
  rpcResult,
} from "../support/raw-rpc.js";
import type { TestServer } from "../support/test-server.js";

/** Which path served each call that reached the service, by server. */
const served: Record<"fast" | "adapter", string[]> = { fast: [], adapter: [] };

/** The real service, noting whether connect-node's context (it has `abort`) or the fast path's reached it. */
function recordingService(into: string[]): ServiceImpl<typeof TokenService> {
  const service = createTokenService({ credentials: SAMPLE });
  return {
    ...service,
    getToken(request, context) {
      into.push("abort" in context ? "connect-node" : "fast path");
      return service.getToken(request, context);
    },
  };
}

/** Configuring any interceptor turns the fast path off: this one changes nothing else. */
const passThrough: Interceptor = (next) => (request) => next(request);

let fast: TestServer;
let adapter: TestServer;
const sessions: http2.ClientHttp2Session[] = [];
beforeAll(async () => {
  [fast, adapter] = await Promise.all([
    listen(recordingService(served.fast), []),
    listen(recordingService(served.adapter), [passThrough]),
  ]);
});
afterAll(async () => {
  for (const session of sessions) session.close();
  await Promise.all([fast?.close(), adapter?.close()]);
});

/** The real server with this service and interceptors (and a call guard), on a free port. */
async function listen(
  service: ServiceImpl<typeof TokenService>,
  interceptors: Interceptor[],
  callGuard?: CallGuard,
): Promise<TestServer> {
  const server = createServer({
    service,
    cors: { allowOrigin: [] },
    interceptors,
    ...(callGuard && { callGuard }),
  });
  const { port } = await server.listen(0, "127.0.0.1");
  return { baseUrl: `http://127.0.0.1:${port}`, port, close: () => server.close() };
}

function sessionFor(server: TestServer): http2.ClientHttp2Session {
  const session = http2.connect(server.baseUrl);
  session.on("error", () => {});
  sessions.push(session);
  return session;
}

/** Headers that only say how the body was framed, or differ per request by nature. */
const FRAMING_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "date",
  "x-request-id",
]);

/**
 * A response with what differs between any two mints removed (the salt and issue time inside a
 * token): the token becomes what it grants, decoded and checked against the certificate.
 */
function normalized(response: RawResponse, binary: boolean, framed: boolean) {
  const headers = Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !FRAMING_HEADERS.has(name)),
  );
  const decodeMessage = (bytes: Buffer) => {
    const message = binary
      ? fromBinary(GetTokenResponseSchema, bytes)
      : (JSON.parse(bytes.toString("utf8")) as { token: string; expiresAt: string });
    const token = decodeToken(message.token);
    expect(token.signatureValid).toBe(true);
    const expiresAt =
      typeof message.expiresAt === "string"
        ? Date.parse(message.expiresAt) / 1000
        : Number(message.expiresAt?.seconds);
    return { services: token.services, lifetime: expiresAt - token.issuedAt };
  };
  let body: unknown;
  if (!framed) {
    body =
      response.status === 200 && response.body.length > 0
        ? decodeMessage(response.body)
        : response.body.toString("utf8");
  } else {
    const frames: unknown[] = [];
    for (let offset = 0; offset + 5 <= response.body.length; ) {
      const flags = response.body.readUInt8(offset);
      const length = response.body.readUInt32BE(offset + 1);
      const data = response.body.subarray(offset + 5, offset + 5 + length);
      offset += 5 + length;
      frames.push(flags === 0 ? decodeMessage(data) : { flags, data: data.toString("utf8") });
    }
    body = frames;
  }
  return { status: response.status, headers, trailers: response.trailers, body };
}

interface Case {
  name: string;
  request: RawRequest;
  /** What the fast server must answer, beyond agreeing with connect-node. */
  expected?: Expected;
}

type Expected = { status: number } | { ok: true } | { code: string; message?: string | RegExp };

const rtcPublisher = create(GetTokenRequestSchema, {
  request: {
    case: "rtc",
    value: { channel: "c", uid: "u", role: RtcRole.PUBLISHER, expireSeconds: 60 },
  },
});
const binaryRtc = toBinary(GetTokenRequestSchema, rtcPublisher);
const jsonRtc = JSON.stringify({
  rtc: { channel: "c", uid: "u", role: "RTC_ROLE_PUBLISHER", expireSeconds: 60 },
});
const utf8 = (text: string) => Buffer.from(text, "utf8");

function connect(
  name: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  expected?: Expected,
  httpVersion: "1.1" | "2" = "1.1",
): Case {
  return {
    name: `Connect ${name}`,
    request: {
      httpVersion,
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? utf8(body) : body,
    },
    ...(expected && { expected }),
  };
}

function grpc(
  name: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
  expected?: Expected,
): Case {
  return {
    name: `gRPC ${name}`,
    request: {
      httpVersion: "2",
      headers: { "content-type": "application/grpc", te: "trailers", ...headers },
      body,
    },
    ...(expected && { expected }),
  };
}

function grpcWeb(
  name: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
  expected?: Expected,
  httpVersion: "1.1" | "2" = "1.1",
): Case {
  return {
    name: `gRPC-Web ${name} (HTTP/${httpVersion})`,
    request: {
      httpVersion,
      headers: { "content-type": "application/grpc-web+proto", ...headers },
      body,
    },
    ...(expected && { expected }),
  };
}

const framedRtc = envelope(0, binaryRtc);
const invalidArgument = (message?: string | RegExp): Expected => ({
  code: "invalid_argument",
  ...(message !== undefined && { message }),
});
const CONNECT_TIMEOUT =
  "connect-timeout-ms must be a whole number of milliseconds with at most 10 digits";
const GRPC_TIMEOUT = "grpc-timeout must be at most 8 digits followed by one unit of H M S m u or n";
const ONE_FRAME = "the request must carry exactly one message frame";
const NOT_PROTOBUF =
  "the request message is not a valid agora.token.v1.GetTokenRequest in protobuf binary";

const cases: Case[] = [
  // Valid requests and the rules of the service itself.
  connect("JSON", jsonRtc, {}, { ok: true }),
  connect("JSON over HTTP/2", jsonRtc, {}, { ok: true }, "2"),
  connect("binary", binaryRtc, { "content-type": "application/proto" }, { ok: true }),
  connect(
    "JSON, a channel the rules refuse",
    '{"rtc":{"channel":"c/d","uid":"u","role":1}}',
    {},
    invalidArgument(/^rtc\.channel /),
  ),
  connect(
    "JSON, no token kind",
    "{}",
    {},
    invalidArgument("request must set one of rtc or rtm or chat or rtc_rtm or agent"),
  ),
  grpc("binary", framedRtc, {}, { ok: true }),
  grpc("+proto", framedRtc, { "content-type": "application/grpc+proto" }, { ok: true }),
  grpc(
    "+json",
    envelope(0, utf8(jsonRtc)),
    { "content-type": "application/grpc+json" },
    { ok: true },
  ),
  grpc(
    "empty message",
    envelope(0, new Uint8Array()),
    {},
    invalidArgument("request must set one of rtc or rtm or chat or rtc_rtm or agent"),
  ),
  grpc(
    "asking for compressed answers",
    framedRtc,
    { "grpc-accept-encoding": "gzip" },
    { ok: true },
  ),
  grpcWeb("binary", framedRtc, {}, { ok: true }),
  grpcWeb("binary", framedRtc, {}, { ok: true }, "2"),
  grpcWeb("without +proto", framedRtc, { "content-type": "application/grpc-web" }, { ok: true }),
  grpcWeb(
    "+json",
    envelope(0, utf8(jsonRtc)),
    { "content-type": "application/grpc-web+json" },
    { ok: true },
  ),

  // Content types (item 13.4): connect-es's parsers decide on both paths.
  connect(
    "charset=utf-8",
    jsonRtc,
    { "content-type": "application/json; charset=utf-8" },
    { ok: true },
  ),
  connect(
    "charset=UTF8 without a space",
    jsonRtc,
    { "content-type": "application/json;charset=UTF8" },
    { ok: true },
  ),
  connect("upper-case type", jsonRtc, { "content-type": "APPLICATION/JSON" }, { ok: true }),
  connect(
    "charset=latin1",
    jsonRtc,
    { "content-type": "application/json; charset=latin1" },
    { status: 415 },
  ),
  connect("text/plain", jsonRtc, { "content-type": "text/plain" }, { status: 415 }),
  connect(
    "streaming type on a unary method",
    envelope(0, utf8(jsonRtc)),
    { "content-type": "application/connect+json" },
    { status: 415 },
  ),
  grpcWeb(
    "text (base64)",
    framedRtc,
    { "content-type": "application/grpc-web-text" },
    { status: 415 },
  ),
  {
    name: "gRPC over HTTP/1.1",
    request: {
      httpVersion: "1.1",
      headers: { "content-type": "application/grpc" },
      body: framedRtc,
    },
  },

  // Timeouts (item 13.3).
  ...["-1", "abc", "99999999999", "1.5", ""].map((value) =>
    connect(
      `connect-timeout-ms ${JSON.stringify(value)}`,
      jsonRtc,
      { "connect-timeout-ms": value },
      invalidArgument(CONNECT_TIMEOUT),
    ),
  ),
  connect(
    "connect-timeout-ms 0",
    jsonRtc,
    { "connect-timeout-ms": "0" },
    { code: "deadline_exceeded", message: "the operation timed out" },
  ),
  connect("connect-timeout-ms 10000", jsonRtc, { "connect-timeout-ms": "10000" }, { ok: true }),
  connect(
    "connect-timeout-ms of 10 digits (longer than any timer)",
    jsonRtc,
    { "connect-timeout-ms": "9999999999" },
    { ok: true },
  ),
  ...["abc", "-1S", "123456789S", "1", "1s", "1 S"].map((value) =>
    grpc(
      `grpc-timeout ${JSON.stringify(value)}`,
      framedRtc,
      { "grpc-timeout": value },
      invalidArgument(GRPC_TIMEOUT),
    ),
  ),
  grpc(
    "grpc-timeout 0S",
    framedRtc,
    { "grpc-timeout": "0S" },
    { code: "deadline_exceeded", message: "the operation timed out" },
  ),
  grpc("grpc-timeout 0n", framedRtc, { "grpc-timeout": "0n" }, { code: "deadline_exceeded" }),
  grpc("grpc-timeout 10S", framedRtc, { "grpc-timeout": "10S" }, { ok: true }),
  grpc("grpc-timeout 99999999H", framedRtc, { "grpc-timeout": "99999999H" }, { ok: true }),
  grpcWeb("grpc-timeout abc", framedRtc, { "grpc-timeout": "abc" }, invalidArgument(GRPC_TIMEOUT)),
  grpcWeb("grpc-timeout 0m", framedRtc, { "grpc-timeout": "0m" }, { code: "deadline_exceeded" }),
  grpcWeb("grpc-timeout 5M", framedRtc, { "grpc-timeout": "5M" }, { ok: true }),
  connect(
    "timeout and a body that does not parse",
    "{",
    { "connect-timeout-ms": "abc" },
    invalidArgument(CONNECT_TIMEOUT),
  ),

  // Frame flags and framing (items 13.4 and 12.1).
  ...[0x02, 0x80, 0x81, 0xff].map((flags) =>
    grpc(
      `frame flags 0x${flags.toString(16)}`,
      envelope(flags, binaryRtc),
      {},
      invalidArgument(
        /^the request message frame has flags 0x[0-9a-f]{2} but only 0x00 or 0x01 \(compressed\) are allowed$/,
      ),
    ),
  ),
  ...[0x02, 0x80].map((flags) =>
    grpcWeb(
      `frame flags 0x${flags.toString(16)}`,
      envelope(flags, binaryRtc),
      {},
      invalidArgument(/flags 0x(02|80)/),
    ),
  ),
  grpc(
    "compressed flag without grpc-encoding",
    envelope(1, binaryRtc),
    {},
    invalidArgument(
      "the request message is marked compressed but grpc-encoding names no compression",
    ),
  ),
  grpc("two frames", Buffer.concat([framedRtc, framedRtc]), {}, invalidArgument(ONE_FRAME)),
  grpcWeb("two frames", Buffer.concat([framedRtc, framedRtc]), {}, invalidArgument(ONE_FRAME)),
  grpc(
    "a frame and stray bytes",
    Buffer.concat([framedRtc, Buffer.from([0])]),
    {},
    invalidArgument(ONE_FRAME),
  ),
  grpc("no frame", new Uint8Array(), {}, invalidArgument("the request carries no message")),
  grpcWeb("no frame", new Uint8Array(), {}, invalidArgument("the request carries no message")),
  grpc(
    "half a frame header",
    Buffer.from([0, 0, 0]),
    {},
    invalidArgument("the request message frame is cut short in its 5-byte header"),
  ),
  grpcWeb(
    "a frame cut short",
    envelope(0, Buffer.from([0x1a]), 9),
    {},
    invalidArgument("the request message frame announces 9 bytes but carries 1"),
  ),
  grpc(
    "a frame announcing 4 GiB",
    envelope(0, binaryRtc, 0xffff_ffff),
    {},
    {
      code: "resource_exhausted",
      message: "the request message is 4294967295 bytes but MAX_BODY_BYTES allows at most 20480",
    },
  ),
  grpc(
    "not protobuf",
    envelope(0, Buffer.from([0x0a, 0x05, 0x0a])),
    {},
    invalidArgument(NOT_PROTOBUF),
  ),
  grpcWeb("not protobuf", envelope(0, Buffer.from([0xff])), {}, invalidArgument(NOT_PROTOBUF)),
  connect(
    "binary, not protobuf",
    Buffer.from([0x0a, 0x05]),
    { "content-type": "application/proto" },
    invalidArgument(NOT_PROTOBUF),
  ),

  // Sizes (items 13.6, 12.1): MAX_BODY_BYTES by name, with the size.
  connect(
    "over MAX_BODY_BYTES with Content-Length",
    JSON.stringify({ chat: { uid: "a".repeat(30_000) } }),
    {},
    {
      code: "resource_exhausted",
      message: "the request message is 30019 bytes but MAX_BODY_BYTES allows at most 20480",
    },
  ),
  connect(
    "over MAX_BODY_BYTES, chunked",
    JSON.stringify({ chat: { uid: "a".repeat(30_000) } }),
    { "transfer-encoding": "chunked" },
    {
      code: "resource_exhausted",
      message:
        "the request message is at least 20481 bytes but MAX_BODY_BYTES allows at most 20480",
    },
  ),
  grpcWeb(
    "over MAX_BODY_BYTES",
    envelope(0, Buffer.alloc(30_000)),
    {},
    {
      code: "resource_exhausted",
      message: "the request message is 30000 bytes but MAX_BODY_BYTES allows at most 20480",
    },
  ),

  // Compression: connect-node's path on both servers, one rule for MAX_BODY_BYTES.
  connect("gzip", gzipSync(jsonRtc), { "content-encoding": "gzip" }, { ok: true }),
  connect(
    "an unknown content-encoding",
    jsonRtc,
    { "content-encoding": "zstd" },
    { code: "unimplemented", message: "content-encoding must be gzip or identity" },
  ),
  grpc("gzip", envelope(1, gzipSync(binaryRtc)), { "grpc-encoding": "gzip" }, { ok: true }),
  grpc(
    "an unknown grpc-encoding",
    framedRtc,
    { "grpc-encoding": "zstd" },
    { code: "unimplemented", message: "grpc-encoding must be gzip or identity" },
  ),
  grpcWeb(
    "gzip inflating past MAX_BODY_BYTES",
    envelope(1, gzipSync(Buffer.alloc(40_000, 0x1a))),
    { "grpc-encoding": "gzip" },
    {
      code: "resource_exhausted",
      message:
        "the request message is more than 20480 bytes once decompressed but MAX_BODY_BYTES allows at most 20480",
    },
  ),
  grpcWeb(
    "br, which the decoder cannot bound",
    envelope(1, brotliCompressSync(binaryRtc)),
    { "grpc-encoding": "br" },
    { code: "unimplemented", message: "grpc-encoding must be gzip or identity" },
  ),
  grpc(
    "gzip that is cut short",
    envelope(1, gzipSync(binaryRtc).subarray(0, 12)),
    { "grpc-encoding": "gzip" },
    invalidArgument("the request message does not decompress with gzip"),
  ),

  // JSON (items 13.5 and 13.6): one strict rule on every protocol.
  connect(
    "an unknown field",
    '{"chat":{},"foo":1}',
    {},
    invalidArgument('request has no field "foo" (its fields are rtc rtm chat rtc_rtm agent)'),
  ),
  grpc(
    "+json, an unknown field",
    envelope(0, utf8('{"chat":{},"foo":1}')),
    { "content-type": "application/grpc+json" },
    invalidArgument('request has no field "foo" (its fields are rtc rtm chat rtc_rtm agent)'),
  ),
  grpcWeb(
    "+json, an unknown field",
    envelope(0, utf8('{"chat":{},"foo":1}')),
    { "content-type": "application/grpc-web+json" },
    invalidArgument('request has no field "foo" (its fields are rtc rtm chat rtc_rtm agent)'),
  ),
  connect(
    "an unknown nested field",
    '{"rtc":{"channel":"c","uid":"u","role":1,"expire":60}}',
    {},
    invalidArgument(
      'rtc has no field "expire" (its fields are channel uid role expire_seconds privilege_expire_seconds privilege_expiry)',
    ),
  ),
  connect(
    "a legacy flat body",
    '{"tokenType":"rtc","channel":"c","role":"publisher","uid":"1"}',
    {},
    invalidArgument(
      /^request has no field "tokenType" .*legacy flat body\. Post it to the legacy getToken route/,
    ),
  ),
  connect(
    "a role by its legacy name",
    '{"rtc":{"channel":"c","uid":"u","role":"publisher"}}',
    {},
    invalidArgument(
      'rtc.role must be RTC_ROLE_PUBLISHER or RTC_ROLE_SUBSCRIBER and not "publisher"',
    ),
  ),
  connect(
    "a string for a number",
    '{"rtc":{"channel":"c","uid":"u","role":1,"expireSeconds":"soon"}}',
    {},
    invalidArgument("rtc.expire_seconds must be a whole number from 0 to 4294967295"),
  ),
  connect(
    "a number for a string",
    '{"chat":{"uid":5}}',
    {},
    invalidArgument("chat.uid must be a JSON string"),
  ),
  connect(
    "a key given twice",
    '{"chat":{"uid":"a","uid":"b"}}',
    {},
    invalidArgument('the request repeats the key "uid"'),
  ),
  connect(
    "a field by both its names",
    '{"chat":{"expireSeconds":5,"expire_seconds":6}}',
    {},
    invalidArgument('chat.expire_seconds is set twice (as "expireSeconds" and "expire_seconds")'),
  ),
  connect(
    "two members of the oneof",
    '{"chat":{},"rtm":{"uid":"a"}}',
    {},
    invalidArgument(
      "request must set only one of rtc or rtm or chat or rtc_rtm or agent (it sets chat and rtm)",
    ),
  ),
  connect("an array", "[]", {}, invalidArgument("request must be a JSON object")),
  connect("a nested array", '{"rtc":[]}', {}, invalidArgument("rtc must be a JSON object")),
  connect(
    "JSON that does not parse",
    '{"chat":',
    {},
    invalidArgument("request must be one JSON document in UTF-8"),
  ),
  connect(
    "trailing garbage",
    '{"chat":{}} x',
    {},
    invalidArgument("request must be one JSON document in UTF-8"),
  ),
  connect(
    "bytes that are not UTF-8",
    Buffer.from([0x7b, 0xff, 0x7d]),
    {},
    invalidArgument("request must be one JSON document in UTF-8"),
  ),
  connect(
    "text whose parse error quotes half a surrogate pair",
    "𒔼𒈚𖬣",
    {},
    invalidArgument("request must be one JSON document in UTF-8"),
  ),
  connect(
    "a key that cannot be shown",
    '{"a:b/c":1}',
    {},
    invalidArgument(
      "request has no field (a text with characters not shown here) (its fields are rtc rtm chat rtc_rtm agent)",
    ),
  ),
];

describe("the GetToken fast path and connect-node", () => {
  it.each(cases.map((testCase) => [testCase.name, testCase] as const))(
    "answer %s the same",
    async (_, { request, expected }) => {
      const fastBefore = served.fast.length;
      const adapterBefore = served.adapter.length;
      const session = (server: TestServer) =>
        request.httpVersion === "2" ? sessionFor(server) : undefined;
      const [fromFast, fromAdapter] = await Promise.all([
        rawRequest(fast.baseUrl, session(fast), request),
        rawRequest(adapter.baseUrl, session(adapter), request),
      ]);
      const contentType = (request.headers["content-type"] ?? "").toLowerCase();
      const binary = !contentType.includes("json");
      const framed = /grpc|connect\+/.test(contentType);
      expect(normalized(fromFast, binary, framed)).toEqual(normalized(fromAdapter, binary, framed));
      // The second server never used the fast path; requests the first one's fast path takes
      // reached the service through it.
      expect(served.adapter.slice(adapterBefore).every((path) => path === "connect-node")).toBe(
        true,
      );
      const fastPaths = served.fast.slice(fastBefore);
      if (takesFastPath(request))
        expect(fastPaths.every((path) => path === "fast path")).toBe(true);
      if (expected) expect(rpcResult(fromFast)).toMatchObject(expectedSummary(expected));
    },
  );
});

/** The requests the fast path answers: unary, identity-encoded, binary or Connect JSON. */
function takesFastPath({ headers, httpVersion }: RawRequest): boolean {
  const type = (headers["content-type"] ?? "").toLowerCase();
  const encoded = ["content-encoding", "grpc-encoding"].some(
    (name) => headers[name] !== undefined && headers[name] !== "identity",
  );
  if (encoded) return false;
  if (/^application\/(json(; ?charset=utf-?8)?|proto)$/.test(type)) return true;
  if (/^application\/grpc(\+proto)?$/.test(type)) return httpVersion === "2";
  return /^application\/grpc-web(\+proto)?$/.test(type);
}

function expectedSummary(expected: Expected) {
  if ("ok" in expected) return { code: "ok" };
  if ("status" in expected) return { status: expected.status };
  return {
    code: expected.code,
    ...(expected.message !== undefined && {
      message:
        typeof expected.message === "string"
          ? expected.message
          : expect.stringMatching(expected.message),
    }),
  };
}

// Real clients, through both paths: compressed requests are connect-node's on both servers.
function transports(baseUrl: string): Array<[string, Transport, Transport]> {
  const gzip = { sendCompression: compressionGzip, compressMinBytes: 0 };
  return [
    [
      "connect",
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl, httpVersion: "1.1", ...gzip }),
    ],
    ["grpc", createGrpcTransport({ baseUrl }), createGrpcTransport({ baseUrl, ...gzip })],
    [
      "grpc-web",
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", ...gzip }),
    ],
  ];
}

async function outcome(
  transport: Transport,
  request: Parameters<ReturnType<typeof createClient<typeof TokenService>>["getToken"]>[0],
  options: { timeoutMs?: number } = {},
) {
  try {
    const response = await createClient(TokenService, transport).getToken(request, options);
    return {
      token: decodeToken(response.token).services,
      expiresAt: response.expiresAt !== undefined,
    };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return { code: connectError.code, message: connectError.rawMessage };
  }
}

describe("the GetToken fast path with real clients", () => {
  it.each(["connect", "grpc", "grpc-web"])(
    "answers %s exactly as connect-node does",
    async (name) => {
      const [, plain, gzip] =
        transports(fast.baseUrl).find(([candidate]) => candidate === name) ?? [];
      if (!plain || !gzip) throw new Error(name);
      const requests = [
        {
          request: {
            case: "rtc" as const,
            value: { channel: "c", uid: "u", role: RtcRole.PUBLISHER, expireSeconds: 60 },
          },
        },
        {
          request: {
            case: "rtc" as const,
            value: { channel: "c/d", uid: "u", role: RtcRole.PUBLISHER },
          },
        },
        {},
      ];
      for (const request of requests) {
        expect(await outcome(plain, request)).toEqual(await outcome(gzip, request));
        expect(await outcome(plain, request, { timeoutMs: 10_000 })).toEqual(
          await outcome(gzip, request, { timeoutMs: 10_000 }),
        );
      }
      expect(await outcome(plain, requests[0] ?? {})).toEqual({
        token: [{ type: 1, channel: "c", uid: "u", privileges: privilegesFor([1, 2, 3, 4], 60) }],
        expiresAt: true,
      });
      expect(await outcome(plain, requests[1] ?? {})).toMatchObject({ code: Code.InvalidArgument });
    },
  );
});

describe("a deadline that passes during the call", () => {
  // A call guard that never answers (a Redis that hangs): an answer can only be the deadline's.
  const slowGuard: CallGuard = { check: () => new Promise(() => {}) };
  let slowFast: TestServer;
  let slowAdapter: TestServer;
  beforeAll(async () => {
    const service = createTokenService({ credentials: SAMPLE });
    [slowFast, slowAdapter] = await Promise.all([
      listen(service, [], slowGuard),
      listen(service, [passThrough], slowGuard),
    ]);
  });
  afterAll(() => Promise.all([slowFast?.close(), slowAdapter?.close()]));

  it.each(
    [
      connect("connect-timeout-ms 100", jsonRtc, { "connect-timeout-ms": "100" }),
      grpc("grpc-timeout 100m", framedRtc, { "grpc-timeout": "100m" }),
      grpcWeb("grpc-timeout 100000u", framedRtc, { "grpc-timeout": "100000u" }),
    ].map((testCase) => [testCase.name, testCase] as const),
  )("ends %s with deadline_exceeded on both paths", async (_, { request }) => {
    for (const server of [slowFast, slowAdapter]) {
      const response = await rawRequest(
        server.baseUrl,
        request.httpVersion === "2" ? sessionFor(server) : undefined,
        request,
      );
      expect(rpcResult(response)).toMatchObject({
        code: "deadline_exceeded",
        message: "the operation timed out",
      });
    }
  });
});
