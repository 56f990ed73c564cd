// The one GetToken request every benchmark sends: an RTC publisher token for one hour.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { GetTokenRequestSchema, RtcRole } from "../gen/agora/token/v1/token_service_pb.js";

const request = create(GetTokenRequestSchema, {
  request: {
    case: "rtc",
    value: {
      channel: "bench-channel",
      uid: "user123",
      role: RtcRole.PUBLISHER,
      expireSeconds: 3600,
    },
  },
});

/** The request in protobuf binary, for Connect binary, gRPC and gRPC-Web. */
export const benchRequestBinary = toBinary(GetTokenRequestSchema, request);

/** The request in the Connect JSON form. */
export const benchRequestJson = Buffer.from(toJsonString(GetTokenRequestSchema, request));
