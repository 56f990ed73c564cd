import type { RuleViolation, TokenKind, TokenRequest } from "../token/token-request.js";
import type { Caller } from "./caller.js";
import { matchesChannelGlob } from "./channel-glob.js";

/** Whether a caller may have the token it asks for; a refusal names the field and the rule. */
export type AuthorizationDecision = { kind: "allow" } | { kind: "deny"; violation: RuleViolation };

const ALLOW: AuthorizationDecision = { kind: "allow" };
const RTC_ANY_USER = "0";

/**
 * Decides who may mint what. API-key services and open-mode callers may mint anything. An end
 * user may mint only for the uid in their JWT, only in the channels their channels claim lists
 * (when one is configured), and a wildcard uid `0` or a Chat app token only with the admin claim.
 * The admin claim unlocks nothing else.
 */
export function authorize(caller: Caller, request: TokenRequest): AuthorizationDecision {
  if (caller.kind !== "user") return ALLOW;
  switch (request.kind) {
    case "rtc":
      if (request.uid === RTC_ANY_USER) {
        if (!caller.admin) {
          return deny("rtc", "uid", "0 means any user and needs the admin claim in the JWT");
        }
      } else if (request.uid !== caller.uid) {
        return deny("rtc", "uid", "must be the uid of the JWT's own user");
      }
      return checkChannel(caller, "rtc", request.channel);
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
  }
}

function checkChannel(
  caller: Extract<Caller, { kind: "user" }>,
  kind: TokenKind,
  channel: string,
): AuthorizationDecision {
  if (caller.channels === undefined) return ALLOW;
  if (caller.channels.some((pattern) => matchesChannelGlob(pattern, channel))) return ALLOW;
  return deny(kind, "channel", "is not among the channels the JWT allows");
}

function deny(kind: TokenKind, field: RuleViolation["field"], rule: string): AuthorizationDecision {
  return { kind: "deny", violation: { kind, field, rule } };
}
