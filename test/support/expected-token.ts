import { create } from "@bufbuild/protobuf";
import { expect } from "vitest";
import {
  AgentKind,
  GetTokenRequestSchema,
  type GetTokenResponse,
  type RtcPrivilegeExpiry,
  RtcRole,
  type RtcRtmTokenRequest,
  type RtcTokenRequest,
} from "../../gen/agora/token/v1/token_service_pb.js";
import type { GetTokenInit } from "./clients.js";
import { type DecodedService, decodeToken, SAMPLE } from "./decode-token.js";
import { askedFromProto, expectedContents } from "./token-oracle.js";

/**
 * What the README ("What a token contains") promises a valid request's token carries: its
 * lifetime, its services with each privilege's lifetime in seconds after the issue time, and
 * when the first privilege expires. Written from the README, not from the service's code.
 */
export interface ExpectedToken {
  expireSeconds: number;
  services: DecodedService[];
  /** Seconds after the issue time when the first privilege expires. */
  privilegesExpireSeconds: number;
}

const resolved = (seconds: number, token: number) => (seconds === 0 ? token : seconds);

export function expectedTokenOf(init: GetTokenInit): ExpectedToken {
  const { request } = create(GetTokenRequestSchema, init);
  let expireSeconds: number;
  let services: DecodedService[];
  switch (request.case) {
    case "rtc":
      expireSeconds = resolved(request.value.expireSeconds, 3600);
      services = [rtcService(request.value, expireSeconds)];
      break;
    case "rtcRtm":
      expireSeconds = resolved(request.value.expireSeconds, 3600);
      services = rtcRtmServices(request.value, expireSeconds);
      break;
    case "agent": {
      const { rtcRtm, kind } = request.value;
      if (!rtcRtm) throw new Error("not a valid agent request");
      expireSeconds = resolved(rtcRtm.expireSeconds, 3600);
      const agentType = kind === AgentKind.CONVERSATIONAL_AI ? 9 : 10;
      services = [...rtcRtmServices(rtcRtm, expireSeconds), { type: agentType, privileges: {} }];
      break;
    }
    default: {
      const asked = askedFromProto(create(GetTokenRequestSchema, init));
      if (!asked) throw new Error("not a token request");
      ({ expireSeconds, services } = expectedContents(asked));
    }
  }
  const lifetimes = services.flatMap((service) => Object.values(service.privileges));
  return {
    expireSeconds,
    services,
    privilegesExpireSeconds: Math.min(expireSeconds, ...lifetimes),
  };
}

/** A publisher: join, publish audio, video and data stream; a subscriber: join only. */
function rtcService(request: RtcTokenRequest | RtcRtmTokenRequest, token: number): DecodedService {
  const every = resolved(request.privilegeExpireSeconds, token);
  const each: RtcPrivilegeExpiry | undefined = request.privilegeExpiry;
  const join = resolved(each?.joinChannelSeconds ?? 0, each ? token : every);
  const privileges: Record<number, number> = { 1: join };
  if (request.role === RtcRole.PUBLISHER) {
    privileges[2] = resolved(each?.publishAudioSeconds ?? 0, each ? token : every);
    privileges[3] = resolved(each?.publishVideoSeconds ?? 0, each ? token : every);
    privileges[4] = resolved(each?.publishDataStreamSeconds ?? 0, each ? token : every);
  }
  // uid "0" means any user, which AccessToken2 writes as "".
  return {
    type: 1,
    channel: request.channel,
    uid: request.uid === "0" ? "" : request.uid,
    privileges,
  };
}

/** RTC as above, and RTM login for `rtm_user_id` (empty: the RTC uid). */
function rtcRtmServices(request: RtcRtmTokenRequest, token: number): DecodedService[] {
  return [
    rtcService(request, token),
    {
      type: 2,
      userId: request.rtmUserId === "" ? request.uid : request.rtmUserId,
      privileges: { 1: resolved(request.rtmExpireSeconds, token) },
    },
  ];
}

/**
 * Asserts that `token` (and the response it came in, when given) is exactly what `init` asks
 * for: signed with the sample certificate, with the promised lifetime, services and privilege
 * lifetimes, `expiresAt` and `privilegesExpireAt` matching the token's own issue time.
 */
export function expectTokenFor(
  token: string,
  init: GetTokenInit,
  response?: Pick<GetTokenResponse, "expiresAt" | "privilegesExpireAt">,
  issuedAt = Math.floor(Date.now() / 1000),
): void {
  const decoded = decodeToken(token, SAMPLE.appCertificate);
  const expected = expectedTokenOf(init);
  expect(decoded.signatureValid).toBe(true);
  expect(decoded.appId).toBe(SAMPLE.appId);
  expect(Math.abs(decoded.issuedAt - issuedAt)).toBeLessThan(30);
  expect(decoded.expireSeconds).toBe(expected.expireSeconds);
  expect(decoded.services).toEqual(expected.services);
  if (response) {
    expect(response.expiresAt?.seconds).toBe(BigInt(decoded.issuedAt + expected.expireSeconds));
    expect(response.privilegesExpireAt?.seconds).toBe(
      BigInt(decoded.issuedAt + expected.privilegesExpireSeconds),
    );
  }
}
