import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  type InspectTokenRequest,
  InspectTokenRequestSchema,
  type InspectTokenResponse,
  InspectTokenResponseSchema,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";

export type InspectOutcome =
  | { kind: "ok"; response: InspectTokenResponse }
  | { kind: "error"; code: Code; message: string };

export interface InspectClient {
  name: string;
  inspectToken(token: string): Promise<InspectOutcome>;
  close(): void;
}

function connectClient(name: string, transport: Transport): InspectClient {
  const client = createClient(TokenService, transport);
  return {
    name,
    async inspectToken(token) {
      try {
        return { kind: "ok", response: await client.inspectToken({ token }) };
      } catch (error) {
        const connectError = ConnectError.from(error);
        return { kind: "error", code: connectError.code, message: connectError.rawMessage };
      }
    },
    close() {},
  };
}

function grpcJsClient(port: number): InspectClient {
  const Client = grpc.makeGenericClientConstructor(
    {
      InspectToken: {
        path: "/agora.token.v1.TokenService/InspectToken",
        requestStream: false,
        responseStream: false,
        requestSerialize: (message: InspectTokenRequest) =>
          Buffer.from(toBinary(InspectTokenRequestSchema, message)),
        requestDeserialize: (bytes: Buffer) => fromBinary(InspectTokenRequestSchema, bytes),
        responseSerialize: (message: InspectTokenResponse) =>
          Buffer.from(toBinary(InspectTokenResponseSchema, message)),
        responseDeserialize: (bytes: Buffer) => fromBinary(InspectTokenResponseSchema, bytes),
      },
    },
    "TokenService",
  );
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    name: "grpc (@grpc/grpc-js)",
    inspectToken(token) {
      return new Promise((resolve) => {
        client.InspectToken?.(
          create(InspectTokenRequestSchema, { token }),
          (error: grpc.ServiceError | null, response: InspectTokenResponse) => {
            if (error)
              resolve({ kind: "error", code: error.code as number, message: error.details });
            else resolve({ kind: "ok", response });
          },
        );
      });
    },
    close: () => client.close(),
  };
}

/** InspectToken over every protocol the one port serves, except the legacy route. */
export function allInspectClients(baseUrl: string, port: number): InspectClient[] {
  return [
    grpcJsClient(port),
    connectClient("grpc (connect-node)", createGrpcTransport({ baseUrl })),
    connectClient("connect json http/1.1", createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    connectClient(
      "connect binary http/2",
      createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
    ),
    connectClient("grpc-web http/1.1", createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })),
  ];
}

/** POSTs to the legacy `/inspectToken` route. */
export async function postInspectToken(
  baseUrl: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/inspectToken`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
