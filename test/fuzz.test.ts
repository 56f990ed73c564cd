import * as http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { Code, type createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
} from "../gen/agora/token/v1/token_service_pb.js";
import {
  anyBytes,
  anyJsonText,
  anyLegacyBody,
  anyRequest,
  anyText,
  validLegacyBody,
} from "./support/arbitraries.js";
import {
  type CallOutcome,
  connectClient,
  type GetTokenInit,
  grpcJsClient,
  type ProtocolClient,
} from "./support/clients.js";
import { SAMPLE } from "./support/decode-token.js";
import {
  envelope,
  postRawHttp1,
  postRawHttp2,
  type RawProtocol,
  type RawResponse,
  rawProtocols,
  readOutcome,
  responseText,
} from "./support/raw-rpc.js";
import { startTestServer, type TestServer } from "./support/test-server.js";
import {
  type AskedToken,
  askedFromLegacyBody,
  askedFromProto,
  expectTokenFor,
  followsDocumentedRules,
} from "./support/token-oracle.js";

/** Cases per protocol; raise it for long runs (`FUZZ_RUNS=50000 npx vitest run test/fuzz`). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
/** Per protocol: about 2 ms a case here; generous for busy CI machines and long runs. */
const TIMEOUT_MS = Math.max(60_000, RUNS * 30);
const CERTIFICATE = new RegExp(SAMPLE.appCertificate, "i");

let server: TestServer;
let session: http2.ClientHttp2Session | undefined;
/** The raw HTTP/2 session, reopened when the server closed it (an idle or unused session is). */
function rawSession(): http2.ClientHttp2Session {
  if (!session || session.closed || session.destroyed) {
    session = http2.connect(server.baseUrl);
    session.on("error", () => {});
  }
  return session;
}
let grpcJs: ProtocolClient;
/** What the service reported as internal errors, and what anything wrote to the console. */
const reported: unknown[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  for (const level of ["error", "warn", "log", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map((arg) => (arg instanceof Error ? arg.stack : String(arg))).join(" "));
    });
  }
  server = await startTestServer({
    service: { onInternalError: (error) => reported.push(error) },
    onInternalError: (error) => reported.push(error),
  });
  grpcJs = grpcJsClient(server.port);
});

afterAll(async () => {
  grpcJs?.close();
  session?.close();
  await server?.close();
  vi.restoreAllMocks();
  // No case reached an internal error, and nothing logged the certificate.
  expect(reported).toEqual([]);
  expect(logLines.join("\n")).not.toMatch(CERTIFICATE);
});

/** A failure message a person can act on: present, short, no stack trace or object dump. */
function expectClearMessage(message: string): void {
  expect(message.length).toBeGreaterThan(0);
  expect(message.length).toBeLessThan(400);
  expect(message).not.toMatch(/\n\s+at |\[object /);
  expect(message).not.toMatch(CERTIFICATE);
}

/** Rules the service's own messages follow: they start with the field they are about. */
const FIELD_MESSAGE = /^(request|(rtc|rtm|chat)\.(channel|uid|role|expire_seconds)) /;

function expectNoServerFault(code: Code | string, message: string): void {
  expect(["internal", "unknown", Code.Internal, Code.Unknown]).not.toContain(code);
  expectClearMessage(message);
}

/** Checks what a real client saw for a structured request, as `asked` reached the server. */
function checkClientOutcome(outcome: CallOutcome, asked: AskedToken | undefined): void {
  if (outcome.kind === "ok") {
    expect(asked).toBeDefined();
    if (asked) {
      expectTokenFor(outcome.response.token, asked, Number(outcome.response.expiresAt?.seconds));
    }
    expect(outcome.response.token).not.toMatch(CERTIFICATE);
    return;
  }
  expect(outcome.code).toBe(Code.InvalidArgument);
  expectNoServerFault(outcome.code, outcome.message);
  expect(outcome.message).toMatch(FIELD_MESSAGE);
  // Refused only when the README's rules refuse it.
  if (asked) expect(followsDocumentedRules(asked)).toBe(false);
}

/** Checks a raw response: no server fault; a success is exactly what the body decodes to. */
function checkRawOutcome(
  protocol: RawProtocol,
  response: RawResponse,
  askedOf: () => AskedToken | undefined,
): void {
  expect(responseText(response)).not.toMatch(CERTIFICATE);
  expect(response.status).toBeLessThan(500);
  const outcome = readOutcome(protocol, response);
  if (outcome.kind === "error") {
    expectNoServerFault(outcome.code, outcome.message);
    return;
  }
  const message =
    protocol === "connect json"
      ? fromJson(GetTokenResponseSchema, outcome.message as JsonValue)
      : fromBinary(GetTokenResponseSchema, outcome.message as Uint8Array);
  const asked = askedOf();
  expect(asked, "minted a token for a body that asks for none").toBeDefined();
  if (asked) expectTokenFor(message.token, asked, Number(message.expiresAt?.seconds));
}

const binaryRoundTrip = (init: GetTokenInit) =>
  askedFromProto(
    fromBinary(
      GetTokenRequestSchema,
      toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init)),
    ),
  );
const jsonRoundTrip = (init: GetTokenInit) =>
  askedFromProto(
    fromJson(
      GetTokenRequestSchema,
      toJson(GetTokenRequestSchema, create(GetTokenRequestSchema, init)),
    ),
  );
const askedFromBinary = (bytes: Uint8Array) => () =>
  askedFromProto(fromBinary(GetTokenRequestSchema, bytes));
const askedFromJsonText = (text: string) => () =>
  askedFromProto(fromJson(GetTokenRequestSchema, JSON.parse(text), { ignoreUnknownFields: true }));

/** A connect-node client's GetToken, as the shared test client reports it. */
function connectCall(transport: Parameters<typeof createClient>[1]) {
  const client = connectClient("fuzz", transport);
  return (request: GetTokenInit): Promise<CallOutcome> => client.getToken(request);
}

/** An encoded request with some bytes changed, cut or added: near-valid protobuf. */
const mutatedRequestBytes = fc
  .tuple(
    anyRequest,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.nat(),
  )
  .map(([init, flips, cut]) => {
    const bytes = Buffer.from(toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init)));
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return new Uint8Array(cut % 4 === 0 ? bytes.subarray(0, cut % (bytes.length + 1)) : bytes);
  });

/** gRPC bodies: well-framed messages, broken frames, compressed flags, gzip, raw bytes. */
const grpcBody = fc.oneof(
  anyRequest.map((init) => ({
    body: envelope(0, toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init))),
    gzip: false,
  })),
  mutatedRequestBytes.map((message) => ({ body: envelope(0, message), gzip: false })),
  fc.tuple(fc.integer({ min: 0, max: 255 }), anyBytes).map(([flags, message]) => ({
    body: envelope(flags, message),
    gzip: false,
  })),
  fc.tuple(mutatedRequestBytes, fc.nat()).map(([message, cut]) => {
    const compressed = gzipSync(message);
    const sent = cut % 3 === 0 ? compressed.subarray(0, cut % (compressed.length + 1)) : compressed;
    return { body: envelope(1, sent), gzip: true };
  }),
  anyBytes.map((body) => ({ body: Buffer.from(body), gzip: false })),
  fc.tuple(anyBytes, fc.nat({ max: 0xffff_ffff })).map(([message, length]) => ({
    body: envelope(0, message, length),
    gzip: false,
  })),
);

/** The request a gRPC body carries in its first message (a success needs exactly one). */
function askedFromGrpcBody(body: Buffer, gzip: boolean) {
  return () => {
    const length = body.readUInt32BE(1);
    const message = body.subarray(5, 5 + length);
    return askedFromBinary((body[0] ?? 0) & 1 && gzip ? gunzipSync(message) : message)();
  };
}

/** Runs one property over the protocol's mix of inputs, `RUNS` cases in all. */
function fuzz<T>(arbitrary: fc.Arbitrary<T>, check: (input: T) => Promise<void>): Promise<void> {
  return fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: RUNS });
}

describe(`fuzz (${RUNS} cases per protocol)`, () => {
  it(
    "legacy POST /getToken: JSON values, strings, bytes, near-valid and valid bodies",
    async () => {
      const input = fc.oneof(
        {
          weight: 3,
          arbitrary: anyLegacyBody.map((body) => ({ text: JSON.stringify(body), valid: false })),
        },
        {
          weight: 2,
          arbitrary: validLegacyBody.map((body) => ({ text: JSON.stringify(body), valid: true })),
        },
        anyJsonText.map((text) => ({ text, valid: false })),
        anyText.map((text) => ({ text, valid: false })),
        anyBytes.map((bytes) => ({ text: Buffer.from(bytes), valid: false })),
      );
      await fuzz(input, async ({ text, valid }) => {
        const response = await fetch(`${server.baseUrl}/getToken`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: text,
        });
        const answer = await response.text();
        expect(answer).not.toMatch(CERTIFICATE);
        expect(response.status).toBeLessThan(500);
        const json = JSON.parse(answer) as Record<string, string>;
        if (response.status === 200) {
          expect(Object.keys(json)).toEqual(["token"]);
          const asked = askedFromLegacyBody(JSON.parse(text.toString()));
          expect(asked, "minted a token for a body that asks for none").toBeDefined();
          if (asked) expectTokenFor(String(json.token), asked);
        } else {
          expect([400, 413]).toContain(response.status);
          expect(Object.keys(json)).toEqual(["error"]);
          expectClearMessage(String(json.error));
          expect(json.error).toMatch(/^(body|tokenType|channel|uid|role|expire) /);
        }
        if (valid) expect(response.status).toBe(200);
      });
    },
    TIMEOUT_MS,
  );

  it(
    "Connect JSON: requests from connect-node, and raw JSON values, strings and bytes",
    async () => {
      const call = connectCall(
        createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      );
      const input = fc.oneof(
        { weight: 3, arbitrary: anyRequest.map((request) => ({ request, raw: undefined })) },
        anyJsonText.map((raw) => ({ request: undefined, raw })),
        anyText.map((raw) => ({ request: undefined, raw })),
        anyBytes.map((raw) => ({ request: undefined, raw: Buffer.from(raw) })),
      );
      await fuzz(input, async ({ request, raw }) => {
        if (request) return checkClientOutcome(await call(request), jsonRoundTrip(request));
        const body = Buffer.from(raw ?? "");
        const response = await postRawHttp1(server.baseUrl, rawProtocols["connect json"], body);
        checkRawOutcome("connect json", response, askedFromJsonText(body.toString("utf8")));
      });
    },
    TIMEOUT_MS,
  );

  it(
    "Connect binary: requests from connect-node, near-valid and raw protobuf bytes",
    async () => {
      const call = connectCall(
        createConnectTransport({
          baseUrl: server.baseUrl,
          httpVersion: "2",
          useBinaryFormat: true,
        }),
      );
      const input = fc.oneof(
        { weight: 2, arbitrary: anyRequest.map((request) => ({ request, raw: undefined })) },
        mutatedRequestBytes.map((raw) => ({ request: undefined, raw })),
        anyBytes.map((raw) => ({ request: undefined, raw })),
      );
      await fuzz(input, async ({ request, raw }) => {
        if (request) return checkClientOutcome(await call(request), binaryRoundTrip(request));
        const body = raw ?? new Uint8Array();
        const response = await postRawHttp2(rawSession(), rawProtocols["connect binary"], body);
        checkRawOutcome("connect binary", response, askedFromBinary(body));
      });
    },
    TIMEOUT_MS,
  );

  it(
    "gRPC: requests from @grpc/grpc-js, and framed, broken, compressed and raw bodies",
    async () => {
      const input = fc.oneof(
        { weight: 2, arbitrary: anyRequest.map((request) => ({ request, raw: undefined })) },
        { weight: 3, arbitrary: grpcBody.map((raw) => ({ request: undefined, raw })) },
      );
      await fuzz(input, async ({ request, raw }) => {
        if (request)
          return checkClientOutcome(await grpcJs.getToken(request), binaryRoundTrip(request));
        if (!raw) return;
        const headers = raw.gzip ? { "grpc-encoding": "gzip" } : {};
        const response = await postRawHttp2(rawSession(), rawProtocols.grpc, raw.body, headers);
        checkRawOutcome("grpc", response, askedFromGrpcBody(raw.body, raw.gzip));
      });
    },
    TIMEOUT_MS,
  );

  it(
    "gRPC-Web: requests from connect-node, and framed, broken and raw bodies",
    async () => {
      const call = connectCall(
        createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
      );
      const input = fc.oneof(
        { weight: 2, arbitrary: anyRequest.map((request) => ({ request, raw: undefined })) },
        {
          weight: 3,
          arbitrary: grpcBody
            .filter(({ gzip }) => !gzip)
            .map((raw) => ({ request: undefined, raw })),
        },
      );
      await fuzz(input, async ({ request, raw }) => {
        if (request) return checkClientOutcome(await call(request), binaryRoundTrip(request));
        if (!raw) return;
        const response = await postRawHttp1(server.baseUrl, rawProtocols["grpc-web"], raw.body);
        checkRawOutcome("grpc-web", response, askedFromGrpcBody(raw.body, false));
      });
    },
    TIMEOUT_MS,
  );
});
