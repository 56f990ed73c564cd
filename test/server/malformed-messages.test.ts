import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  envelope,
  postRawHttp1,
  postRawHttp2,
  rawProtocols,
  readOutcome,
} from "../support/raw-rpc.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let session: http2.ClientHttp2Session;
const reported: unknown[] = [];

beforeAll(async () => {
  server = await startTestServer({ onInternalError: (error) => reported.push(error) });
  session = http2.connect(server.baseUrl);
});
afterAll(async () => {
  session.close();
  await server.close();
  expect(reported).toEqual([]);
});

/** A protobuf field 1 (rtc) of length 5 with only 2 bytes after it. */
const TRUNCATED = Uint8Array.from([0x0a, 0x05, 0x0a, 0x01]);
const NOT_PROTOBUF =
  "the request message is not a valid agora.token.v1.GetTokenRequest in protobuf binary";

describe("request messages that do not decode", () => {
  it("are invalid_argument on Connect binary, not internal", async () => {
    const response = await postRawHttp2(session, rawProtocols["connect binary"], TRUNCATED);
    expect(response.status).toBe(400);
    expect(readOutcome("connect binary", response)).toEqual({
      kind: "error",
      code: "invalid_argument",
      message: NOT_PROTOBUF,
    });
  });

  it("are INVALID_ARGUMENT on gRPC and gRPC-Web", async () => {
    const grpc = await postRawHttp2(session, rawProtocols.grpc, envelope(0, TRUNCATED));
    expect(readOutcome("grpc", grpc)).toEqual({
      kind: "error",
      code: "invalid_argument",
      message: NOT_PROTOBUF,
    });
    const grpcWeb = await postRawHttp1(
      server.baseUrl,
      rawProtocols["grpc-web"],
      envelope(0, TRUNCATED),
    );
    expect(readOutcome("grpc-web", grpcWeb)).toMatchObject({ code: "invalid_argument" });
  });

  it("are INVALID_ARGUMENT when marked compressed without grpc-encoding", async () => {
    const response = await postRawHttp2(session, rawProtocols.grpc, envelope(1, Uint8Array.of(1)));
    expect(readOutcome("grpc", response)).toEqual({
      kind: "error",
      code: "invalid_argument",
      message: "the request message is marked compressed but grpc-encoding names no compression",
    });
  });

  it("are INVALID_ARGUMENT when their gzip is cut short", async () => {
    const gzipped = gzipSync(Buffer.from("\x1a\x00"));
    const response = await postRawHttp2(
      session,
      rawProtocols.grpc,
      envelope(1, gzipped.subarray(0, 12)),
      { "grpc-encoding": "gzip" },
    );
    expect(readOutcome("grpc", response)).toEqual({
      kind: "error",
      code: "invalid_argument",
      message: "the request message does not decompress with gzip",
    });
  });

  it("still let a well-formed gzip-compressed gRPC request through", async () => {
    // chat {} : field 3, length 0.
    const response = await postRawHttp2(
      session,
      rawProtocols.grpc,
      envelope(1, gzipSync(Buffer.from([0x1a, 0x00]))),
      { "grpc-encoding": "gzip" },
    );
    expect(readOutcome("grpc", response)).toMatchObject({ kind: "ok" });
  });
});
