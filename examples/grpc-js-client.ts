// A Node microservice asking for a token over gRPC with @grpc/grpc-js and the generated messages.
// Run against a local server: npx tsx examples/grpc-js-client.ts [host:port]
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type GetTokenRequest,
  GetTokenRequestSchema,
  type GetTokenResponse,
  GetTokenResponseSchema,
  RtcRole,
} from "../gen/agora/token/v1/token_service_pb.js";

const TokenServiceClient = grpc.makeGenericClientConstructor(
  {
    GetToken: {
      path: "/agora.token.v1.TokenService/GetToken",
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: GetTokenRequest) => Buffer.from(toBinary(GetTokenRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(GetTokenRequestSchema, b),
      responseSerialize: (m: GetTokenResponse) => Buffer.from(toBinary(GetTokenResponseSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(GetTokenResponseSchema, b),
    },
  },
  "TokenService",
);

const client = new TokenServiceClient(
  process.argv[2] ?? "localhost:8080",
  grpc.credentials.createInsecure(),
);
const request = create(GetTokenRequestSchema, {
  request: {
    case: "rtc",
    value: {
      channel: "my-video-channel",
      uid: "user123",
      role: RtcRole.PUBLISHER,
      expireSeconds: 3600,
    },
  },
});
client.GetToken?.(request, (error: grpc.ServiceError | null, response: GetTokenResponse) => {
  if (error) {
    console.error(`gRPC status ${error.code}: ${error.details}`);
    process.exitCode = 1;
  } else {
    // Proto3 JSON, as the Connect JSON answer shows it: expiresAt in RFC 3339.
    console.log(toJsonString(GetTokenResponseSchema, response));
  }
  client.close();
});
