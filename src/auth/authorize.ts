import type {
  RtcRtmFields,
  RuleViolation,
  TokenKind,
  TokenRequest,
} from "../token/token-request.js";
import type { Caller } from "./caller.js";
import { matchesChannelGlob } from "./channel-glob.js";

/** Whether a caller may have the token it asks for; a refusal names the field and the rule. */
export type AuthorizationDecision = { kind: "allow" } | { kind: "deny"; violation: RuleViolation };

const ALLOW: AuthorizationDecision = { kind: "allow" };
const RTC_ANY_USER = "0";

type User = Extract<Caller, { kind: "user" }>;

/**
 * Decides who may mint what. API-key services and open-mode callers may mint anything. An end
 * user may mint only for the uid in their JWT (RTC, RTM and Chat, and both users of an RTC + RTM
 * token), only in the channels their channels claim lists (when one is configured), and a
 * wildcard uid `0`, a Chat app token or an AI agent's token only with the admin claim. The admin
 * claim unlocks nothing else: an agent's channel must still be one the JWT allows. Privilege
 * lifetimes are not checked: they can only shorten a token.
 */
export function authorize(caller: Caller, request: TokenRequest): AuthorizationDecision {
  if (caller.kind !== "user") return ALLOW;
  switch (request.kind) {
    case "rtc": {
      const uid = checkRtcUid(caller, "rtc", request.uid);
      return uid.kind === "deny" ? uid : checkChannel(caller, "rtc", request.channel);
    }
    case "rtm":
      if (request.uid !== caller.uid)
        return deny("rtm", "uid", "must be the uid of the JWT's own user");
      // "" asks for no stream channel; "*" (every channel) needs a glob that matches "*" itself.
      return request.channel === "" ? ALLOW : checkChannel(caller, "rtm", request.channel);
    case "chat":
      if (request.uid === "") {
        return caller.admin
          ? ALLOW
          : deny(
              "chat",
              "uid",
              "is required since a Chat app token needs the admin claim in the JWT",
            );
      }
      if (request.uid !== caller.uid)
        return deny("chat", "uid", "must be the uid of the JWT's own user");
      return ALLOW;
    case "rtc_rtm":
      return authorizeRtcRtm(caller, request);
    case "agent":
      if (!caller.admin) {
        return deny(
          "agent",
          "request",
          "tokens need the admin claim in the JWT since agents are started by backends",
        );
      }
      // Not valid without its identity: the service says so.
      if (request.rtcRtm === undefined) return ALLOW;
      return checkChannel(caller, "agent", request.rtcRtm.channel, "rtc_rtm.channel");
  }
}

/** Both users of an RTC + RTM token are the JWT's own user (RTC uid `0` with the admin claim). */
function authorizeRtcRtm(caller: User, request: RtcRtmFields): AuthorizationDecision {
  const uid = checkRtcUid(caller, "rtc_rtm", request.uid);
  if (uid.kind === "deny") return uid;
  // An empty rtm_user_id makes uid the RTM user, which was just checked (or is "0", which the
  // service refuses as an RTM user).
  if (request.rtmUserId !== "" && request.rtmUserId !== caller.uid) {
    return deny("rtc_rtm", "rtm_user_id", "must be the uid of the JWT's own user");
  }
  return checkChannel(caller, "rtc_rtm", request.channel);
}

function checkRtcUid(caller: User, kind: TokenKind, uid: string): AuthorizationDecision {
  if (uid === RTC_ANY_USER) {
    return caller.admin
      ? ALLOW
      : deny(kind, "uid", "0 means any user and needs the admin claim in the JWT");
  }
  return uid === caller.uid ? ALLOW : deny(kind, "uid", "must be the uid of the JWT's own user");
}

function checkChannel(
  caller: User,
  kind: TokenKind,
  channel: string,
  field: RuleViolation["field"] = "channel",
): AuthorizationDecision {
  if (caller.channels === undefined) return ALLOW;
  if (caller.channels.some((pattern) => matchesChannelGlob(pattern, channel))) return ALLOW;
  return deny(kind, field, "is not among the channels the JWT allows");
}

function deny(kind: TokenKind, field: RuleViolation["field"], rule: string): AuthorizationDecision {
  return { kind: "deny", violation: { kind, field, rule } };
}
