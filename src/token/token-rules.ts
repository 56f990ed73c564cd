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
