import * as http2 from "node:http2";
import { brotliCompressSync, constants, gunzipSync, gzipSync } from "node:zlib";
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
  paddedMessage,
  postRawHttp1,
  postRawHttp2,
  type RawProtocol,
  type RawResponse,
  rawProtocols,
  rawRequest,
  readOutcome,
  responseText,
  rpcResult,
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
/**
 * The most CPU one case may cost this process (the server and the client sending it), in ms.
 * Before each request was bounded to one message, one 16 KiB body cost the server 700 ms.
 */
const CPU_BOUND_MS = 100;
/** The service's MAX_BODY_BYTES (startTestServer's default). */
const MAX_BODY_BYTES = 20_480;

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
  const outcome = readOutcome(protocol, response);
  // Connect answers unimplemented (an unknown content-encoding) with 501; no other 5xx.
  if (outcome.kind !== "error" || outcome.code !== "unimplemented") {
    expect(response.status).toBeLessThan(500);
  }
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

/**
 * Runs one request and checks the CPU it cost, read with `process.cpuUsage()` (CPU time, not
 * wall-clock). A case over the bound is run once more, so that a garbage collection that
 * happened to fall in it is not blamed on the request; the second run must be within it.
 */
async function withinCpuBound<T>(send: () => Promise<T>): Promise<T> {
  const measured = async () => {
    const before = process.cpuUsage();
    const result = await send();
    const used = process.cpuUsage(before);
    return { result, ms: (used.user + used.system) / 1000 };
  };
  let run = await measured();
  if (run.ms > CPU_BOUND_MS) run = await measured();
  expect(run.ms, "CPU for one case (ms)").toBeLessThanOrEqual(CPU_BOUND_MS);
  return run.result;
}

/** A GetTokenRequest for a Chat app token, padded with an unknown field to `size` bytes. */
const paddedChatRequest = (size: number) => paddedMessage(Buffer.from([0x1a, 0x00]), size);

/** Gzip members as a client sends them: whole, cut short, or garbage. */
const gzipped = (message: Uint8Array) =>
  fc.nat().map((cut) => {
    const compressed = gzipSync(message);
    return cut % 4 === 0 ? compressed.subarray(0, cut % (compressed.length + 1)) : compressed;
  });

/** One message, compressed: a request, a mutated one, a bomb that inflates past the limit. */
const compressedMessage = fc.oneof(
  anyRequest.chain((init) =>
    gzipped(toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init))),
  ),
  mutatedRequestBytes.chain(gzipped),
  fc
    .integer({ min: MAX_BODY_BYTES - 8, max: MAX_BODY_BYTES + 8 })
    .map((size) => gzipSync(paddedChatRequest(size))),
  fc.constant(gzipSync(Buffer.alloc(16 << 20)).subarray(0, MAX_BODY_BYTES - 16)),
  fc.constant(
    brotliCompressSync(Buffer.alloc(1 << 20), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
  ),
  anyBytes,
);

const anyEncoding = fc.constantFrom("gzip", "gzip", "br", "identity", "zstd");

/**
 * Enveloped bodies with compression: one envelope marked compressed (or not) under any
 * encoding header, bodies of many envelopes, and 16 KiB bodies (the attack of issue 12, well
 * within MAX_BODY_BYTES) packed with envelopes that each inflate to 16 KiB, under the
 * encoding that would inflate them.
 */
const compressedEnvelopes: fc.Arbitrary<{ envelopes: Buffer[]; encoding: string }> = fc.oneof(
  fc.record({
    envelopes: fc
      .tuple(compressedMessage, fc.constantFrom(0, 1, 1, 1, 0x81))
      .map(([message, flags]) => [envelope(flags, message)]),
    encoding: anyEncoding,
  }),
  fc.record({
    envelopes: fc.array(
      fc.oneof(
        compressedMessage.map((message) => envelope(1, message)),
        anyRequest.map((init) =>
          envelope(0, toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init))),
        ),
      ),
      { minLength: 2, maxLength: 30 },
    ),
    encoding: anyEncoding,
  }),
  fc.constantFrom("gzip", "br").map((encoding) => {
    const compress = encoding === "gzip" ? gzipSync : brotliCompressSync;
    const one = envelope(1, compress(paddedChatRequest(16_384)));
    return {
      envelopes: Array.from({ length: Math.floor(16_000 / one.length) }, () => one),
      encoding,
    };
  }),
);

/** The request a compressed enveloped body carries, when it is one envelope the server reads. */
function askedFromCompressedEnvelopes(envelopes: Buffer[], encoding: string) {
  return () => {
    const [only] = envelopes;
    if (!only || envelopes.length !== 1 || !["gzip", "identity"].includes(encoding))
      return undefined;
    const message = only.subarray(5);
    return askedFromBinary((only[0] ?? 0) & 1 ? gunzipSync(message) : message)();
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

  it(
    "Connect JSON and binary: gzip, brotli and unknown content-encodings, bombs, within the CPU bound",
    async () => {
      const input = fc.record({
        binary: fc.boolean(),
        encoding: anyEncoding,
        body: fc.oneof(
          anyRequest.chain((init) =>
            fc
              .boolean()
              .chain((binary) =>
                gzipped(
                  binary
                    ? toBinary(GetTokenRequestSchema, create(GetTokenRequestSchema, init))
                    : Buffer.from(
                        JSON.stringify(
                          toJson(GetTokenRequestSchema, create(GetTokenRequestSchema, init)),
                        ),
                      ),
                ),
              ),
          ),
          compressedMessage,
        ),
      });
      await fuzz(input, async ({ binary, encoding, body }) => {
        const protocol: RawProtocol = binary ? "connect binary" : "connect json";
        const response = await withinCpuBound(() =>
          rawRequest(server.baseUrl, undefined, {
            httpVersion: "1.1",
            headers: { "content-type": rawProtocols[protocol], "content-encoding": encoding },
            body,
          }),
        );
        checkRawOutcome(protocol, response, () => {
          if (encoding !== "gzip" && encoding !== "identity") return undefined;
          const message = encoding === "gzip" ? gunzipSync(body) : Buffer.from(body);
          return binary
            ? askedFromBinary(message)()
            : askedFromJsonText(message.toString("utf8"))();
        });
        if (encoding === "br" || encoding === "zstd") {
          expect(rpcResult(response).code).toBe("unimplemented");
        }
      });
    },
    TIMEOUT_MS,
  );

  it(
    "gRPC and gRPC-Web: compressed and multi-envelope bodies under any grpc-encoding, within the CPU bound",
    async () => {
      const input = fc.record({
        protocol: fc.constantFrom<RawProtocol>("grpc", "grpc-web"),
        http2: fc.boolean(),
        body: compressedEnvelopes,
      });
      await fuzz(input, async ({ protocol, http2: overHttp2, body: { envelopes, encoding } }) => {
        const body = Buffer.concat(envelopes);
        const headers = { "content-type": rawProtocols[protocol], "grpc-encoding": encoding };
        const response = await withinCpuBound(() =>
          protocol === "grpc"
            ? postRawHttp2(rawSession(), rawProtocols.grpc, body, { "grpc-encoding": encoding })
            : rawRequest(server.baseUrl, overHttp2 ? rawSession() : undefined, {
                httpVersion: overHttp2 ? "2" : "1.1",
                headers,
                body,
              }),
        );
        checkRawOutcome(protocol, response, askedFromCompressedEnvelopes(envelopes, encoding));
        // A unary call carries one message: more are refused, whatever they hold.
        if (envelopes.length > 1) {
          expect(rpcResult(response)).toMatchObject({ code: expect.not.stringMatching(/^ok$/) });
        }
      });
    },
    TIMEOUT_MS,
  );
});
