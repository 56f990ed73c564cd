import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  type GetTokenRequest,
  GetTokenRequestSchema,
  type GetTokenResponse,
  GetTokenResponseSchema,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";

export type GetTokenInit = MessageInitShape<typeof GetTokenRequestSchema>;

/** What a client saw: a response, or an error with its Connect code and message. */
export type CallOutcome =
  | { kind: "ok"; response: GetTokenResponse }
  | { kind: "error"; code: Code; message: string; metadata: Headers };

export interface ProtocolClient {
  name: string;
  /** `headers` become request headers (gRPC metadata), e.g. `authorization`. */
  getToken(request: GetTokenInit, headers?: Record<string, string>): Promise<CallOutcome>;
  close(): void;
}

/** A connect-node client of `TokenService` over `transport`, reporting outcomes as data. */
export function connectClient(name: string, transport: Transport): ProtocolClient {
  const client = createClient(TokenService, transport);
  return {
    name,
    async getToken(request, headers) {
      try {
        return { kind: "ok", response: await client.getToken(request, { headers: headers ?? {} }) };
      } catch (error) {
        const connectError = ConnectError.from(error);
        return {
          kind: "error",
          code: connectError.code,
          message: connectError.rawMessage,
          metadata: connectError.metadata,
        };
      }
    },
    close() {},
  };
}

/** A `@grpc/grpc-js` client, as internal microservices use, over h2c. */
export function grpcJsClient(port: number): ProtocolClient {
  const Client = grpc.makeGenericClientConstructor(
    {
      GetToken: {
        path: "/agora.token.v1.TokenService/GetToken",
        requestStream: false,
        responseStream: false,
        requestSerialize: (message: GetTokenRequest) =>
          Buffer.from(toBinary(GetTokenRequestSchema, message)),
        requestDeserialize: (bytes: Buffer) => fromBinary(GetTokenRequestSchema, bytes),
        responseSerialize: (message: GetTokenResponse) =>
          Buffer.from(toBinary(GetTokenResponseSchema, message)),
        responseDeserialize: (bytes: Buffer) => fromBinary(GetTokenResponseSchema, bytes),
      },
    },
    "TokenService",
  );
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    name: "grpc (@grpc/grpc-js)",
    getToken(request, headers = {}) {
      const metadata = new grpc.Metadata();
      for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
      return new Promise((resolve) => {
        client.GetToken?.(
          create(GetTokenRequestSchema, request),
          metadata,
          (error: grpc.ServiceError | null, response: GetTokenResponse) => {
            if (error) {
              const received = new Headers();
              for (const [name, value] of Object.entries(error.metadata.getMap())) {
                received.set(name, String(value));
              }
              resolve({
                kind: "error",
                code: error.code as number,
                message: error.details,
                metadata: received,
              });
            } else resolve({ kind: "ok", response });
          },
        );
      });
    },
    close: () => client.close(),
  };
}

/** Every way a client can reach GetToken on one port, except the legacy route. */
export function allProtocolClients(baseUrl: string, port: number): ProtocolClient[] {
  return [
    grpcJsClient(port),
    connectClient("grpc (connect-node)", createGrpcTransport({ baseUrl })),
    connectClient("connect json http/1.1", createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    connectClient(
      "connect binary http/1.1",
      createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    ),
    connectClient("connect json http/2", createConnectTransport({ baseUrl, httpVersion: "2" })),
    connectClient("grpc-web http/1.1", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })),
    connectClient("grpc-web http/2", createGrpcWebTransport({ baseUrl, httpVersion: "2" })),
  ];
}

/** POSTs a flat JSON body (or raw text) to the legacy route. */
export async function postLegacy(
  baseUrl: string,
  body: unknown,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/getToken`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  const json = (await response.json()) as Record<string, unknown>;
  return { status: response.status, headers: response.headers, json };
}
