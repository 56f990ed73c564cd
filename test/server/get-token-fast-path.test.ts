import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RtcRole, TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { decodeToken, privilegesFor } from "../support/decode-token.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

// Compressed requests are not the fast path's: connect-node answers them. Both must agree.
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
) {
  try {
    const response = await createClient(TokenService, transport).getToken(request);
    return {
      token: decodeToken(response.token).services,
      expiresAt: response.expiresAt !== undefined,
    };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return { code: connectError.code, message: connectError.rawMessage };
  }
}

describe("the GetToken fast path", () => {
  it.each(["connect", "grpc", "grpc-web"])(
    "answers %s exactly as connect-node does",
    async (name) => {
      const [, fast, adapter] =
        transports(server.baseUrl).find(([candidate]) => candidate === name) ?? [];
      if (!fast || !adapter) throw new Error(name);
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
        expect(await outcome(fast, request)).toEqual(await outcome(adapter, request));
      }
      expect(await outcome(fast, requests[0] ?? {})).toEqual({
        token: [{ type: 1, channel: "c", uid: "u", privileges: privilegesFor([1, 2, 3, 4], 60) }],
        expiresAt: true,
      });
      expect(await outcome(fast, requests[1] ?? {})).toMatchObject({ code: Code.InvalidArgument });
    },
  );

  it("refuses a malformed gRPC-Web frame with InvalidArgument, not a crash", async () => {
    const response = await fetch(`${server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
      method: "POST",
      headers: { "Content-Type": "application/grpc-web+proto" },
      body: new Uint8Array([0, 0, 0, 0, 9, 1]),
    });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer()).toString("latin1");
    expect(body).toContain("grpc-status: 3");
  });

  it("answers a body whose parse error quotes half of a surrogate pair", async () => {
    // V8's JSON error message cuts "𒔼" in half; the error must still be answered.
    const response = await fetch(`${server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "𒔼𒈚𖬣",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });
});
