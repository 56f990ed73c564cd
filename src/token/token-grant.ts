import type { RtcRole, RuleViolation, TokenRequest } from "./token-request.js";
import {
  checkAgoraName,
  checkChatUid,
  invalid,
  MAX_CHANNEL_BYTES,
  MAX_RTC_ACCOUNT_BYTES,
  MAX_RTM_UID_BYTES,
  resolveExpireSeconds,
} from "./token-rules.js";

/** AccessToken2 service types this service mints. */
export const ServiceType = { rtc: 1, rtm: 2, chat: 5 } as const;

/** AccessToken2 privilege numbers, per service. */
export const RtcPrivilege = { joinChannel: 1, publishAudio: 2, publishVideo: 3, publishData: 4 };
export const RtmPrivilege = { login: 1 };
export const ChatPrivilege = { user: 1, app: 2 };

/** One AccessToken2 service with its privileges; each privilege lasts as long as the token. */
export type ServiceGrant =
  | { type: typeof ServiceType.rtc; channel: string; uid: string; privileges: number[] }
  | { type: typeof ServiceType.rtm; userId: string; privileges: number[] }
  | { type: typeof ServiceType.chat; userId: string; privileges: number[] };

/** A validated request: exactly what the token will say. */
export interface TokenGrant {
  expireSeconds: number;
  services: ServiceGrant[];
}

export type GrantResult =
  | { kind: "ok"; grant: TokenGrant }
  | { kind: "invalid"; violation: RuleViolation };

const RTC_ANY_USER = "0";

const rtcPrivileges: Record<RtcRole, number[]> = {
  publisher: [
    RtcPrivilege.joinChannel,
    RtcPrivilege.publishAudio,
    RtcPrivilege.publishVideo,
    RtcPrivilege.publishData,
  ],
  subscriber: [RtcPrivilege.joinChannel],
};

/**
 * Checks a request against Agora's limits and turns it into the services and privileges the
 * token will carry. Nothing is normalised: a value that breaks a rule is refused.
 */
export function grantFor(request: TokenRequest): GrantResult {
  const expire = resolveExpireSeconds(request.kind, request.expireSeconds);
  switch (request.kind) {
    case "rtc": {
      const channel = checkAgoraName("rtc", "channel", request.channel, MAX_CHANNEL_BYTES);
      if (channel.kind === "invalid") return channel;
      const uid = checkAgoraName("rtc", "uid", request.uid, MAX_RTC_ACCOUNT_BYTES);
      if (uid.kind === "invalid") return uid;
      if (request.role === undefined) {
        return invalid("rtc", "role", "is required and must be publisher or subscriber");
      }
      if (expire.kind === "invalid") return expire;
      return ok(expire.seconds, [
        {
          type: ServiceType.rtc,
          channel: request.channel,
          // agora-token encodes uid 0 ("any user") as the empty string.
          uid: request.uid === RTC_ANY_USER ? "" : request.uid,
          privileges: rtcPrivileges[request.role],
        },
      ]);
    }
    case "rtm": {
      const uid = checkAgoraName("rtm", "uid", request.uid, MAX_RTM_UID_BYTES);
      if (uid.kind === "invalid") return uid;
      if (request.uid.startsWith(" ")) return invalid("rtm", "uid", "must not start with a space");
      if (request.uid === "0") {
        return invalid("rtm", "uid", 'must name a user and "0" is not a user in RTM');
      }
      if (request.channel !== "" && request.channel !== "*") {
        const channel = checkAgoraName("rtm", "channel", request.channel, MAX_CHANNEL_BYTES);
        if (channel.kind === "invalid") return channel;
      }
      if (expire.kind === "invalid") return expire;
      const services: ServiceGrant[] = [];
      if (request.channel !== "") {
        services.push({
          type: ServiceType.rtc,
          channel: request.channel,
          uid: request.uid,
          privileges: [RtcPrivilege.joinChannel, RtcPrivilege.publishData],
        });
      }
      services.push({
        type: ServiceType.rtm,
        userId: request.uid,
        privileges: [RtmPrivilege.login],
      });
      return ok(expire.seconds, services);
    }
    case "chat": {
      if (request.uid !== "") {
        const uid = checkChatUid(request.uid);
        if (uid.kind === "invalid") return uid;
      }
      if (expire.kind === "invalid") return expire;
      const isAppToken = request.uid === "";
      return ok(expire.seconds, [
        {
          type: ServiceType.chat,
          userId: request.uid,
          privileges: [isAppToken ? ChatPrivilege.app : ChatPrivilege.user],
        },
      ]);
    }
  }
}

function ok(expireSeconds: number, services: ServiceGrant[]): GrantResult {
  return { kind: "ok", grant: { expireSeconds, services } };
}
