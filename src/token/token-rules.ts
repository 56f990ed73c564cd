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

/** Short names of the invisible characters people most often paste by mistake. */
const INVISIBLE_NAMES: Readonly<Record<number, string>> = {
  0: "null",
  9: "tab",
  10: "line feed",
  13: "carriage return",
  32: "space",
  127: "delete",
  160: "no-break space",
  8203: "zero-width space",
  8205: "zero-width joiner",
  8232: "line separator",
  65279: "byte order mark",
};

// Controls, format characters (zero-width), separators and other whitespace, lone surrogates,
// private-use and unassigned code points, and combining marks (which would sit on the quote).
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}\p{White_Space}\p{M}]$/u;

/**
 * The first character of `char` as a person can read it: `"/" (Unicode 002F)`, or for a
 * character that does not show, only its code point and a short name (`Unicode 0009 (tab)`). The
 * code point is always there because gRPC clients may leave `/` `:` `,` `?` `#` percent-encoded.
 */
export function codePointName(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const shown = String.fromCodePoint(codePoint);
  // Not "U+002F": gRPC clients that leave "/" percent-encoded leave "+" so too.
  const code = `Unicode ${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  if (INVISIBLE.test(shown)) {
    const name =
      INVISIBLE_NAMES[codePoint] ??
      (codePoint >= 0xd800 && codePoint <= 0xdfff ? "lone surrogate" : undefined);
    return name === undefined ? code : `${code} (${name})`;
  }
  return `${shown === '"' ? `'"'` : `"${shown}"`} (${code})`;
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
