import { create } from "@bufbuild/protobuf";
import agoraToken from "agora-token";
import { AccessToken2 } from "agora-token/src/AccessToken2.js";
import {
  AgentKind,
  GetTokenRequestSchema,
  type RtcPrivilegeExpiry,
  RtcRole,
  type RtcRtmTokenRequest,
} from "../../gen/agora/token/v1/token_service_pb.js";
import type { GetTokenInit } from "./clients.js";
import { SAMPLE } from "./decode-token.js";

const { ConvoAITokenBuilder, RtcTokenBuilder, SttTokenBuilder } = agoraToken;

/**
 * Runs one of agora-token's builders with the issue time and salt of our choosing: its
 * AccessToken2 picks them itself (the clock, Math.random), so they are set just before `build()`
 * signs, as FIELD-NOTES "Byte-identity tests" says.
 */
function withIssueTimeAndSalt(issuedAt: number, salt: number, builder: () => string): string {
  const build = AccessToken2.prototype.build;
  AccessToken2.prototype.build = function (this: AccessToken2) {
    this.issueTs = issuedAt;
    this.salt = salt;
    return build.call(this);
  };
  try {
    return builder();
  } finally {
    AccessToken2.prototype.build = build;
  }
}

/** 0 means as long as the token (issue 11: every lifetime is resolved before the builder). */
const orToken = (seconds: number, token: number) => (seconds === 0 ? token : seconds);
/** RTC uid "0" is what agora-token writes for the number 0 (any user). */
const rtcAccount = (uid: string): string | number => (uid === "0" ? 0 : uid);
const APP = [SAMPLE.appId, SAMPLE.appCertificate] as const;

/**
 * The token agora-token 2.0.6's builder named in issue 11 makes for a valid request, with the
 * sample credentials: `rtc` → `buildTokenWithUserAccount` (role, token lifetime, one privilege
 * lifetime) or, for `privilege_expiry` with a publisher, `buildTokenWithUidAndPrivilege`;
 * `rtc_rtm` → `buildTokenWithRtm2`; `agent` → `ConvoAITokenBuilder` / `SttTokenBuilder`.
 */
export function buildWithAgoraToken(init: GetTokenInit, issuedAt: number, salt: number): string {
  const { request } = create(GetTokenRequestSchema, init);
  const token = withIssueTimeAndSalt(issuedAt, salt, () => {
    switch (request.case) {
      case "rtc": {
        const { channel, uid, role, privilegeExpiry } = request.value;
        const expire = orToken(request.value.expireSeconds, 3600);
        if (privilegeExpiry && role === RtcRole.PUBLISHER) {
          const [join, audio, video, data] = lifetimes(privilegeExpiry, expire);
          return RtcTokenBuilder.buildTokenWithUidAndPrivilege(
            ...APP,
            channel,
            rtcAccount(uid),
            expire,
            join,
            audio,
            video,
            data,
          );
        }
        const privilege = privilegeExpiry
          ? orToken(privilegeExpiry.joinChannelSeconds, expire)
          : orToken(request.value.privilegeExpireSeconds, expire);
        return RtcTokenBuilder.buildTokenWithUserAccount(
          ...APP,
          channel,
          rtcAccount(uid),
          role,
          expire,
          privilege,
        );
      }
      case "rtcRtm":
        return RtcTokenBuilder.buildTokenWithRtm2(...APP, ...rtcRtmArguments(request.value));
      case "agent": {
        const { kind, rtcRtm } = request.value;
        if (!rtcRtm) throw new Error("an agent request needs rtc_rtm");
        if (kind === AgentKind.CONVERSATIONAL_AI) {
          return ConvoAITokenBuilder.buildToken(...APP, ...rtcRtmArguments(rtcRtm));
        }
        if (kind === AgentKind.SPEECH_TO_TEXT) {
          return SttTokenBuilder.buildToken(...APP, ...rtcRtmArguments(rtcRtm));
        }
        throw new Error(`no builder for agent kind ${kind}`);
      }
      default:
        throw new Error(`no builder named for ${request.case}`);
    }
  });
  if (token === "") throw new Error("agora-token built no token");
  return token;
}

function lifetimes(expiry: RtcPrivilegeExpiry, token: number): [number, number, number, number] {
  return [
    orToken(expiry.joinChannelSeconds, token),
    orToken(expiry.publishAudioSeconds, token),
    orToken(expiry.publishVideoSeconds, token),
    orToken(expiry.publishDataStreamSeconds, token),
  ];
}

/** The arguments after the credentials of `buildTokenWithRtm2` and the agent builders. */
function rtcRtmArguments(request: RtcRtmTokenRequest) {
  const expire = orToken(request.expireSeconds, 3600);
  const every = orToken(request.privilegeExpireSeconds, expire);
  const [join, audio, video, data] = request.privilegeExpiry
    ? lifetimes(request.privilegeExpiry, expire)
    : [every, every, every, every];
  return [
    request.channel,
    rtcAccount(request.uid),
    request.role,
    expire,
    join,
    audio,
    video,
    data,
    request.rtmUserId === "" ? request.uid : request.rtmUserId,
    orToken(request.rtmExpireSeconds, expire),
  ] as const;
}
