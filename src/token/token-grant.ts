import type {
  AgentKind,
  PrivilegeExpiryField,
  RtcFields,
  RtcPrivilegeLifetimes,
  RtcRtmField,
  RtcRtmFields,
  RuleViolation,
  TokenKind,
  TokenRequest,
} from "./token-request.js";
import {
  checkAgoraName,
  checkChatUid,
  checkRtmUserId,
  invalid,
  MAX_CHANNEL_BYTES,
  MAX_RTC_ACCOUNT_BYTES,
  resolveExpireSeconds,
  resolvePrivilegeSeconds,
} from "./token-rules.js";

/** AccessToken2 service types this service mints. */
export const ServiceType = { rtc: 1, rtm: 2, chat: 5, convoAi: 9, stt: 10 } as const;

/** AccessToken2 privilege numbers, per service. */
export const RtcPrivilege = { joinChannel: 1, publishAudio: 2, publishVideo: 3, publishData: 4 };
export const RtmPrivilege = { login: 1 };
export const ChatPrivilege = { user: 1, app: 2 };

/** One privilege and its lifetime in seconds after the issue time (never 0: resolved). */
export interface PrivilegeGrant {
  id: number;
  expireSeconds: number;
}

/** One AccessToken2 service with its privileges. */
export type ServiceGrant =
  | { type: typeof ServiceType.rtc; channel: string; uid: string; privileges: PrivilegeGrant[] }
  | { type: typeof ServiceType.rtm; userId: string; privileges: PrivilegeGrant[] }
  | { type: typeof ServiceType.chat; userId: string; privileges: PrivilegeGrant[] }
  | { type: typeof ServiceType.convoAi | typeof ServiceType.stt; privileges: PrivilegeGrant[] };

/** A validated request: exactly what the token will say. */
export interface TokenGrant {
  expireSeconds: number;
  services: ServiceGrant[];
}

export type GrantResult =
  | { kind: "ok"; grant: TokenGrant }
  | { kind: "invalid"; violation: RuleViolation };

type Invalid = { kind: "invalid"; violation: RuleViolation };

const RTC_ANY_USER = "0";
const agentServiceTypes: Record<AgentKind, typeof ServiceType.convoAi | typeof ServiceType.stt> = {
  conversational_ai: ServiceType.convoAi,
  speech_to_text: ServiceType.stt,
};

/**
 * Checks a request against Agora's limits and turns it into the services and privileges the
 * token will carry, every lifetime resolved (0 → the token's). Nothing is normalised: a value
 * that breaks a rule is refused.
 */
export function grantFor(request: TokenRequest): GrantResult {
  switch (request.kind) {
    case "rtc": {
      const rtc = rtcGrant("rtc", (field) => field, request);
      if (rtc.kind === "invalid") return rtc;
      return ok(rtc.expireSeconds, [rtc.service]);
    }
    case "rtm": {
      const uid = checkRtmUserId("rtm", "uid", request.uid);
      if (uid.kind === "invalid") return uid;
      if (request.channel !== "" && request.channel !== "*") {
        const channel = checkAgoraName("rtm", "channel", request.channel, MAX_CHANNEL_BYTES);
        if (channel.kind === "invalid") return channel;
      }
      const expire = resolveExpireSeconds("rtm", request.expireSeconds);
      if (expire.kind === "invalid") return expire;
      const lifetime = expire.seconds;
      const services: ServiceGrant[] = [];
      if (request.channel !== "") {
        services.push({
          type: ServiceType.rtc,
          channel: request.channel,
          uid: request.uid,
          privileges: lasting(lifetime, RtcPrivilege.joinChannel, RtcPrivilege.publishData),
        });
      }
      services.push({
        type: ServiceType.rtm,
        userId: request.uid,
        privileges: lasting(lifetime, RtmPrivilege.login),
      });
      return ok(lifetime, services);
    }
    case "chat": {
      if (request.uid !== "") {
        const uid = checkChatUid(request.uid);
        if (uid.kind === "invalid") return uid;
      }
      const expire = resolveExpireSeconds("chat", request.expireSeconds);
      if (expire.kind === "invalid") return expire;
      const isAppToken = request.uid === "";
      return ok(expire.seconds, [
        {
          type: ServiceType.chat,
          userId: request.uid,
          privileges: lasting(expire.seconds, isAppToken ? ChatPrivilege.app : ChatPrivilege.user),
        },
      ]);
    }
    case "rtc_rtm": {
      const grant = rtcRtmGrant("rtc_rtm", (field) => field, request);
      return grant.kind === "invalid" ? grant : ok(grant.expireSeconds, grant.services);
    }
    case "agent": {
      if (request.agentKind === undefined) {
        return invalid(
          "agent",
          "kind",
          "is required and must be AGENT_KIND_CONVERSATIONAL_AI or AGENT_KIND_SPEECH_TO_TEXT",
        );
      }
      if (request.rtcRtm === undefined) {
        return invalid("agent", "rtc_rtm", "is required (the agent's RTC and RTM identity)");
      }
      const grant = rtcRtmGrant("agent", (field) => `rtc_rtm.${field}`, request.rtcRtm);
      if (grant.kind === "invalid") return grant;
      return ok(grant.expireSeconds, [
        ...grant.services,
        { type: agentServiceTypes[request.agentKind], privileges: [] },
      ]);
    }
  }
}

/** Names a field of the RTC or RTC + RTM part, which an agent request nests under `rtc_rtm`. */
type FieldPath = (field: RtcRtmField) => RuleViolation["field"];

type RtcGrant = {
  kind: "ok";
  expireSeconds: number;
  service: Extract<ServiceGrant, { type: typeof ServiceType.rtc }>;
};

/** The RTC service of an `rtc` or `rtc_rtm` request, and the token's lifetime. */
function rtcGrant(kind: TokenKind, path: FieldPath, request: RtcFields): RtcGrant | Invalid {
  const channel = checkAgoraName(kind, path("channel"), request.channel, MAX_CHANNEL_BYTES);
  if (channel.kind === "invalid") return channel;
  const uid = checkAgoraName(kind, path("uid"), request.uid, MAX_RTC_ACCOUNT_BYTES);
  if (uid.kind === "invalid") return uid;
  const { role } = request;
  if (role === undefined) {
    return invalid(kind, path("role"), "is required and must be publisher or subscriber");
  }
  const expire = resolveExpireSeconds(kind, request.expireSeconds);
  if (expire.kind === "invalid") {
    return invalid(kind, path("expire_seconds"), expire.violation.rule);
  }
  const lifetime = expire.seconds;
  const lifetimes = rtcLifetimes(kind, path, request, lifetime);
  if (lifetimes.kind === "invalid") return lifetimes;
  const { joinChannel, publishAudio, publishVideo, publishData } = lifetimes.seconds;
  return {
    kind: "ok",
    expireSeconds: lifetime,
    service: {
      type: ServiceType.rtc,
      channel: request.channel,
      // agora-token encodes uid 0 ("any user") as the empty string.
      uid: request.uid === RTC_ANY_USER ? "" : request.uid,
      privileges:
        role === "publisher"
          ? [
              { id: RtcPrivilege.joinChannel, expireSeconds: joinChannel },
              { id: RtcPrivilege.publishAudio, expireSeconds: publishAudio },
              { id: RtcPrivilege.publishVideo, expireSeconds: publishVideo },
              { id: RtcPrivilege.publishData, expireSeconds: publishData },
            ]
          : [{ id: RtcPrivilege.joinChannel, expireSeconds: joinChannel }],
    },
  };
}

const privilegeFields: readonly [keyof RtcPrivilegeLifetimes, PrivilegeExpiryField][] = [
  ["joinChannel", "join_channel_seconds"],
  ["publishAudio", "publish_audio_seconds"],
  ["publishVideo", "publish_video_seconds"],
  ["publishData", "publish_data_stream_seconds"],
];

/** Every RTC privilege's lifetime, resolved against the token's. */
function rtcLifetimes(
  kind: TokenKind,
  path: FieldPath,
  request: RtcFields,
  tokenSeconds: number,
): { kind: "ok"; seconds: RtcPrivilegeLifetimes } | Invalid {
  const every = resolvePrivilegeSeconds(
    kind,
    path("privilege_expire_seconds"),
    request.privilegeExpireSeconds ?? 0,
    tokenSeconds,
  );
  if (every.kind === "invalid") return every;
  const { privilegeExpiry } = request;
  if (privilegeExpiry === undefined) {
    const seconds = every.seconds;
    return {
      kind: "ok",
      seconds: {
        joinChannel: seconds,
        publishAudio: seconds,
        publishVideo: seconds,
        publishData: seconds,
      },
    };
  }
  if ((request.privilegeExpireSeconds ?? 0) !== 0) {
    return invalid(
      kind,
      path("privilege_expiry"),
      "must not be set together with privilege_expire_seconds (set one or the other)",
    );
  }
  const seconds = { ...privilegeExpiry };
  for (const [name, field] of privilegeFields) {
    if (name !== "joinChannel" && request.role === "subscriber" && privilegeExpiry[name] !== 0) {
      return invalid(
        kind,
        path(`privilege_expiry.${field}`),
        "must be 0 for a subscriber since a subscriber has no publish privilege",
      );
    }
    const resolved = resolvePrivilegeSeconds(
      kind,
      path(`privilege_expiry.${field}`),
      privilegeExpiry[name],
      tokenSeconds,
    );
    if (resolved.kind === "invalid") return resolved;
    seconds[name] = resolved.seconds;
  }
  return { kind: "ok", seconds };
}

/** The RTC and RTM services of an `rtc_rtm` request (or an agent's), and the token's lifetime. */
function rtcRtmGrant(
  kind: TokenKind,
  path: FieldPath,
  request: RtcRtmFields,
): { kind: "ok"; expireSeconds: number; services: ServiceGrant[] } | Invalid {
  const rtc = rtcGrant(kind, path, request);
  if (rtc.kind === "invalid") return rtc;
  const rtmUser = rtmUserOf(kind, path, request);
  if (rtmUser.kind === "invalid") return rtmUser;
  const login = resolvePrivilegeSeconds(
    kind,
    path("rtm_expire_seconds"),
    request.rtmExpireSeconds,
    rtc.expireSeconds,
  );
  if (login.kind === "invalid") return login;
  return {
    kind: "ok",
    expireSeconds: rtc.expireSeconds,
    services: [
      rtc.service,
      {
        type: ServiceType.rtm,
        userId: rtmUser.userId,
        privileges: [{ id: RtmPrivilege.login, expireSeconds: login.seconds }],
      },
    ],
  };
}

/** `rtm_user_id`, or `uid` when it is empty; either way it follows the RTM rules. */
function rtmUserOf(
  kind: TokenKind,
  path: FieldPath,
  request: RtcRtmFields,
): { kind: "ok"; userId: string } | Invalid {
  if (request.rtmUserId !== "") {
    const user = checkRtmUserId(kind, path("rtm_user_id"), request.rtmUserId);
    return user.kind === "invalid" ? user : { kind: "ok", userId: request.rtmUserId };
  }
  if (request.uid === RTC_ANY_USER) {
    return invalid(
      kind,
      path("rtm_user_id"),
      'is required when uid is "0" since RTM has no "any user"',
    );
  }
  const user = checkRtmUserId(kind, path("uid"), request.uid);
  if (user.kind === "invalid") {
    const { violation } = user;
    return invalid(
      kind,
      violation.field,
      `as the RTM user (rtm_user_id is empty) ${violation.rule}`,
    );
  }
  return { kind: "ok", userId: request.uid };
}

/** Privileges that all last `seconds`. */
function lasting(seconds: number, ...ids: number[]): PrivilegeGrant[] {
  return ids.map((id) => ({ id, expireSeconds: seconds }));
}

function ok(expireSeconds: number, services: ServiceGrant[]): GrantResult {
  return { kind: "ok", grant: { expireSeconds, services } };
}

/** The seconds after the issue time when the first privilege of `grant` expires. */
export function earliestPrivilegeSeconds(grant: TokenGrant): number {
  let earliest = grant.expireSeconds;
  for (const service of grant.services) {
    for (const privilege of service.privileges) {
      if (privilege.expireSeconds < earliest) earliest = privilege.expireSeconds;
    }
  }
  return earliest;
}
