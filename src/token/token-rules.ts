import type { RuleViolation, TokenKind } from "./token-request.js";

/** Lifetime used when a request asks for 0 seconds. */
export const DEFAULT_EXPIRE_SECONDS = 3600;
/** Agora privileges last at most 24 hours. */
export const MAX_EXPIRE_SECONDS = 86_400;
export const MAX_CHANNEL_BYTES = 64;
export const MAX_RTC_ACCOUNT_BYTES = 255;
export const MAX_RTM_UID_BYTES = 64;
export const MAX_CHAT_UID_CHARS = 64;

// Agora's character set for channel names and user accounts: ASCII letters and digits, space,
// and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,
const AGORA_NAME_CHAR = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,]$/;
const AGORA_NAME = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,]*$/;
const CHAT_UID = /^[a-zA-Z0-9_.-]+$/;

type Check = { kind: "ok" } | { kind: "invalid"; violation: RuleViolation };
const OK: Check = { kind: "ok" };

export function invalid(kind: TokenKind, field: RuleViolation["field"], rule: string) {
  return { kind: "invalid", violation: { kind, field, rule } } as const;
}

/**
 * `0x2F` for "/": names the first character of `char` without putting it in a message, where
 * gRPC clients would leave it percent-encoded.
 */
export function codePointName(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  return `0x${codePoint.toString(16).toUpperCase().padStart(2, "0")}`;
}

function firstCharOutsideAgoraSet(value: string): string | undefined {
  for (const char of value) {
    if (!AGORA_NAME_CHAR.test(char)) return char;
  }
  return undefined;
}

/** A name from Agora's character set (channel, RTC account, RTM user id), 1 to `maxBytes` bytes. */
export function checkAgoraName(
  kind: TokenKind,
  field: RuleViolation["field"],
  value: string,
  maxBytes: number,
): Check {
  if (value.length === 0) return invalid(kind, field, "is required");
  // The set is ASCII, so a name in it has as many bytes as UTF-16 code units.
  const isInSet = AGORA_NAME.test(value);
  const bytes = isInSet ? value.length : Buffer.byteLength(value, "utf8");
  if (bytes > maxBytes) {
    return invalid(kind, field, `must be at most ${maxBytes} bytes long (got ${bytes})`);
  }
  if (isInSet) return OK;
  const bad = firstCharOutsideAgoraSet(value);
  if (bad !== undefined) {
    return invalid(
      kind,
      field,
      `has the character ${codePointName(bad)} which is not in Agora's character set`,
    );
  }
  return OK;
}

export function checkChatUid(value: string): Check {
  if (value.length > MAX_CHAT_UID_CHARS) {
    return invalid("chat", "uid", `must be at most ${MAX_CHAT_UID_CHARS} characters long`);
  }
  if (!CHAT_UID.test(value)) {
    const bad = [...value].find((char) => !CHAT_UID.test(char)) ?? "";
    return invalid(
      "chat",
      "uid",
      `has the character ${codePointName(bad)} but may only have letters and digits and "_" "-" "."`,
    );
  }
  return OK;
}

/** An RTM user id: an Agora name of 1 to 64 bytes, not starting with a space, not "0". */
export function checkRtmUserId(
  kind: TokenKind,
  field: RuleViolation["field"],
  value: string,
): Check {
  const name = checkAgoraName(kind, field, value, MAX_RTM_UID_BYTES);
  if (name.kind === "invalid") return name;
  if (value.startsWith(" ")) return invalid(kind, field, "must not start with a space");
  if (value === "0") return invalid(kind, field, 'must name a user and "0" is not a user in RTM');
  return OK;
}

/**
 * Resolves a privilege's lifetime against the token's (already resolved) lifetime: 0 means as
 * long as the token; otherwise 1 up to the token's lifetime, since a privilege cannot outlive it.
 */
export function resolvePrivilegeSeconds(
  kind: TokenKind,
  field: RuleViolation["field"],
  seconds: number,
  tokenSeconds: number,
): { kind: "ok"; seconds: number } | { kind: "invalid"; violation: RuleViolation } {
  if (!Number.isInteger(seconds) || seconds < 0) {
    return invalid(kind, field, "must be a whole number of seconds");
  }
  if (seconds > tokenSeconds) {
    return invalid(
      kind,
      field,
      `must be at most the token's lifetime of ${tokenSeconds} seconds (0 means as long as the token)`,
    );
  }
  return { kind: "ok", seconds: seconds === 0 ? tokenSeconds : seconds };
}

/** Resolves the requested lifetime: 0 means the default; otherwise 1 to 86400 whole seconds. */
export function resolveExpireSeconds(
  kind: TokenKind,
  expireSeconds: number,
): { kind: "ok"; seconds: number } | { kind: "invalid"; violation: RuleViolation } {
  const fail = (rule: string) => invalid(kind, "expire_seconds", rule);
  if (!Number.isInteger(expireSeconds)) return fail("must be a whole number of seconds");
  if (expireSeconds < 0) return fail("must not be negative");
  if (expireSeconds > MAX_EXPIRE_SECONDS) {
    return fail(`must be at most ${MAX_EXPIRE_SECONDS} seconds (24 hours)`);
  }
  return { kind: "ok", seconds: expireSeconds === 0 ? DEFAULT_EXPIRE_SECONDS : expireSeconds };
}
