import * as http2 from "node:http2";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_TOKEN_CHARS } from "../../src/token/parse-access-token2.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { allInspectClients, postInspectToken } from "../support/inspect-clients.js";
import {
  envelope,
  paddedMessage,
  type RawRequest,
  type RawResponse,
  rawRequest,
  rpcResult,
} from "../support/raw-rpc.js";

const CHECK = "/grpc.health.v1.Health/Check";
const WATCH = "/grpc.health.v1.Health/Watch";
const MAX_BODY_BYTES = 20_480;

let server: AppServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  // Callers must authenticate for tokens; health stays open, so its limits are everyone's.
  server = await startApp({ API_KEYS: `probe:${"k".repeat(32)}` });
  session = http2.connect(server.baseUrl);
  session.on("error", () => {});
});
afterAll(async () => {
  session?.close();
  await server?.close();
});

function send(request: RawRequest): Promise<RawResponse> {
  return rawRequest(server.baseUrl, request.httpVersion === "2" ? session : undefined, request);
}

/** A HealthCheckRequest of exactly `size` bytes: `service` "" and an unknown bytes field. */
const healthCheckOfSize = (size: number) => paddedMessage(new Uint8Array(), size);

/**
 * Every enveloped way to call a health method: gRPC over HTTP/2, gRPC-Web, Connect streaming.
 * `served` is how an accepted call ends (a Watch streams until its deadline).
 */
const enveloped = [
  { name: "gRPC", path: CHECK, httpVersion: "2", contentType: "application/grpc", served: "ok" },
  {
    name: "gRPC-Web HTTP/1.1",
    path: CHECK,
    httpVersion: "1.1",
    contentType: "application/grpc-web+proto",
    served: "ok",
  },
  {
    name: "gRPC-Web HTTP/2",
    path: CHECK,
    httpVersion: "2",
    contentType: "application/grpc-web+proto",
    served: "ok",
  },
  {
    name: "Connect streaming (Watch)",
    path: WATCH,
    httpVersion: "1.1",
    contentType: "application/connect+proto",
    served: "deadline_exceeded",
  },
] as const;

/** The encoding header of the content type's protocol, and a deadline for a Watch. */
function headersFor(contentType: string, encoding: string): Record<string, string> {
  return contentType.startsWith("application/connect")
    ? {
        "content-type": contentType,
        "connect-content-encoding": encoding,
        "connect-timeout-ms": "200",
      }
    : { "content-type": contentType, te: "trailers", "grpc-encoding": encoding };
}

describe("compressed request messages", () => {
  it.each(enveloped)(
    "$name: many gzip envelopes are refused before any is decompressed",
    async ({ path, httpVersion, contentType }) => {
      // 300 envelopes of 55 bytes, each inflating to 16 KiB: 5 MB from a 16 KiB body.
      const bomb = envelope(1, gzipSync(healthCheckOfSize(16_384)));
      const body = Buffer.concat(
        Array.from({ length: Math.floor(16_384 / bomb.length) }, () => bomb),
      );
      const response = await send({
        httpVersion,
        path,
        headers: headersFor(contentType, "gzip"),
        body,
      });
      expect(rpcResult(response)).toMatchObject({
        code: "invalid_argument",
        message: "the request must carry exactly one message frame",
      });
    },
  );

  it.each(enveloped)(
    "$name: brotli is refused unread, however little it looks",
    async ({ path, httpVersion, contentType }) => {
      // 900 envelopes of 18 bytes, each inflating to 16 KiB: 15 MB from a 16 KiB body; or
      // one of 14 bytes whose decoder would fill a 16 MiB window first.
      const bomb = envelope(1, brotliCompressSync(healthCheckOfSize(16_384)));
      const many = Buffer.concat(
        Array.from({ length: Math.floor(16_384 / bomb.length) }, () => bomb),
      );
      const wide = envelope(
        1,
        brotliCompressSync(Buffer.alloc(16 << 20), {
          params: { [constants.BROTLI_PARAM_LGWIN]: 24 },
        }),
      );
      for (const body of [many, wide]) {
        const cpuBefore = process.cpuUsage();
        const response = await send({
          httpVersion,
          path,
          headers: headersFor(contentType, "br"),
          body,
        });
        const cpu = process.cpuUsage(cpuBefore);
        const encodingHeader = contentType.startsWith("application/connect")
          ? "connect-content-encoding"
          : "grpc-encoding";
        expect(rpcResult(response)).toMatchObject({
          code: "unimplemented",
          message: `${encodingHeader} must be gzip or identity`,
        });
        // The whole process (server and this client) spent a fraction of what inflating costs.
        expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);
      }
    },
  );

  it.each(enveloped)(
    "$name: one message is read up to MAX_BODY_BYTES once decompressed, and not a byte more",
    async ({ path, httpVersion, contentType, served }) => {
      const call = (message: Uint8Array) =>
        send({
          httpVersion,
          path,
          headers: headersFor(contentType, "gzip"),
          body: envelope(1, gzipSync(message)),
        });
      expect(rpcResult(await call(healthCheckOfSize(MAX_BODY_BYTES)))).toMatchObject({
        code: served,
      });
      expect(rpcResult(await call(healthCheckOfSize(MAX_BODY_BYTES + 1)))).toMatchObject({
        code: "resource_exhausted",
        message: `the request message is more than ${MAX_BODY_BYTES} bytes once decompressed but MAX_BODY_BYTES allows at most ${MAX_BODY_BYTES}`,
      });
    },
  );

  it("Connect unary: a body inflating past MAX_BODY_BYTES is refused with the same words", async () => {
    const call = (message: Uint8Array) =>
      send({
        httpVersion: "1.1",
        path: CHECK,
        headers: { "content-type": "application/proto", "content-encoding": "gzip" },
        body: gzipSync(message),
      });
    expect(rpcResult(await call(healthCheckOfSize(MAX_BODY_BYTES)))).toMatchObject({
      code: "ok",
      message: "",
    });
    const refused = await call(healthCheckOfSize(MAX_BODY_BYTES + 1));
    expect(refused.status).toBe(429);
    expect(rpcResult(refused)).toMatchObject({
      code: "resource_exhausted",
      message: `the request message is more than ${MAX_BODY_BYTES} bytes once decompressed but MAX_BODY_BYTES allows at most ${MAX_BODY_BYTES}`,
    });
  });
});

describe("InspectToken's documented limit of 16384 characters", () => {
  let open: AppServer;
  beforeAll(async () => {
    open = await startApp();
  });
  afterAll(() => open?.close());

  it.each([
    ["the longest token", MAX_TOKEN_CHARS, /^token /],
    ["one character more", MAX_TOKEN_CHARS + 1, /^token must be at most 16384 characters/],
  ])(
    "is read the same for %s on every protocol, and never refused as too large",
    async (_, length, rule) => {
      const token = `007${"A".repeat(length - 3)}`;
      const answers = new Map<string, unknown>();
      for (const client of allInspectClients(open.baseUrl, open.port)) {
        const outcome = await client.inspectToken(token);
        client.close();
        answers.set(
          client.name,
          outcome.kind === "error" ? { code: outcome.code, message: outcome.message } : outcome,
        );
      }
      const legacy = await postInspectToken(open.baseUrl, { token });
      const [first] = answers.values();
      expect(first).toMatchObject({ code: 3, message: expect.stringMatching(rule) });
      for (const [name, answer] of answers) expect(answer, name).toEqual(first);
      expect(legacy).toEqual({
        status: 400,
        json: { error: (first as { message: string }).message },
      });
    },
  );
});
