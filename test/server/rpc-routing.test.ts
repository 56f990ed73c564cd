import * as http2 from "node:http2";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { envelope, rawRequest } from "../support/raw-rpc.js";

const ORIGIN = "https://app.example.com";
let server: AppServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  server = await startApp({ CORS_ALLOW_ORIGIN: ORIGIN });
  session = http2.connect(server.baseUrl);
  session.on("error", () => {});
});
afterAll(async () => {
  session?.close();
  await server?.close();
});

/** GetToken under another name or service: a method this server does not have. */
function unknownMethod(service: string, name: string): DescMethodUnary {
  const getToken = TokenService.method.getToken;
  return { ...getToken, name, parent: { ...getToken.parent, typeName: service } };
}

async function callWith(transport: Transport, method: DescMethodUnary) {
  try {
    await transport.unary(method, undefined, undefined, undefined, {});
    return { code: "ok" };
  } catch (error) {
    const { code, rawMessage } = ConnectError.from(error);
    return { code: Code[code], message: rawMessage };
  }
}

function grpcJsCall(path: string): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      Buffer.alloc(0),
      (error) => {
        client.close();
        resolve(error);
      },
    );
  });
}

describe("an RPC path this server does not serve", () => {
  const methods = [
    [
      "an unknown method",
      "agora.token.v1.TokenService",
      "Nope",
      "agora.token.v1.TokenService has no method Nope",
    ],
    [
      "an unknown service",
      "agora.billing.v1.Invoices",
      "Send",
      "this server has no service agora.billing.v1.Invoices",
    ],
  ] as const;

  it.each(methods)(
    "gets unimplemented, naming it, from @grpc/grpc-js for %s",
    async (_, service, name, message) => {
      const error = await grpcJsCall(`/${service}/${name}`);
      expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(error?.details).toBe(message);
    },
  );

  it.each(methods)(
    "gets unimplemented, naming it, from connect-node's transports for %s",
    async (_, service, name, message) => {
      const { baseUrl } = server;
      for (const transport of [
        createGrpcTransport({ baseUrl }),
        createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
        createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
        createConnectTransport({ baseUrl, httpVersion: "1.1" }),
        createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
      ]) {
        expect(await callWith(transport, unknownMethod(service, name))).toEqual({
          code: "Unimplemented",
          message,
        });
      }
    },
  );

  it("answers each protocol in its own framing, never the legacy JSON 404", async () => {
    const path = "/agora.token.v1.TokenService/Nope";
    const grpcAnswer = await rawRequest(server.baseUrl, session, {
      httpVersion: "2",
      path,
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(0, new Uint8Array()),
    });
    expect(grpcAnswer).toMatchObject({
      status: 200,
      headers: { "content-type": "application/grpc+proto" },
      trailers: {
        "grpc-status": "12",
        "grpc-message": "agora.token.v1.TokenService%20has%20no%20method%20Nope",
      },
    });
    const grpcWeb = await rawRequest(server.baseUrl, undefined, {
      httpVersion: "1.1",
      path,
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(0, new Uint8Array()),
    });
    expect(grpcWeb.status).toBe(200);
    expect(grpcWeb.headers["content-type"]).toBe("application/grpc-web+proto");
    expect(grpcWeb.body.subarray(5).toString()).toBe(
      "grpc-message: agora.token.v1.TokenService%20has%20no%20method%20Nope\r\ngrpc-status: 12\r\n",
    );
    const connectUnary = await fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(connectUnary.status).toBe(501);
    expect(await connectUnary.json()).toEqual({
      code: "unimplemented",
      message: "agora.token.v1.TokenService has no method Nope",
    });
    const connectStream = await rawRequest(server.baseUrl, undefined, {
      httpVersion: "1.1",
      path,
      headers: { "content-type": "application/connect+json" },
      body: envelope(0, Buffer.from("{}")),
    });
    expect(connectStream.status).toBe(200);
    expect(connectStream.body[0]).toBe(0x02);
    expect(JSON.parse(connectStream.body.subarray(5).toString())).toEqual({
      error: { code: "unimplemented", message: "agora.token.v1.TokenService has no method Nope" },
    });
    // Paths that are no RPC are still the legacy routes' business.
    const legacy = await fetch(`${server.baseUrl}/no/such/route`);
    expect(legacy.status).toBe(404);
    expect(await legacy.json()).toEqual({ error: "not found" });
  });
});

describe("methods an RPC path allows", () => {
  it.each([
    "/agora.token.v1.TokenService/GetToken",
    "/agora.token.v1.TokenService/InspectToken",
    "/grpc.health.v1.Health/Check",
  ])("%s: a Connect GET's 405 has Allow, and the CORS preflight allows the same", async (path) => {
    const get = await fetch(
      `${server.baseUrl}${path}?connect=v1&encoding=json&message=${encodeURIComponent("{}")}`,
    );
    expect(get.status).toBe(405);
    const allow = get.headers.get("allow");
    expect(allow).toBe("POST");
    const preflight = await fetch(`${server.baseUrl}${path}`, {
      method: "OPTIONS",
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe(allow);
  });
});
