import { create } from "@bufbuild/protobuf";
import {
  type GetTokenRequest,
  GetTokenRequestSchema,
  RtcRole,
} from "../../../gen/agora/token/v1/token_service_pb.js";
import type { RuleViolation, TokenKind } from "../../token/token-request.js";
import { resolveExpireSeconds } from "../../token/token-rules.js";
import { parseStrictJson } from "../http/strict-json.js";

/**
 * Legacy input that cannot become a `GetTokenRequest` (a wrong JSON type, an unknown token type
 * or role): answered 400 with this message, which names the legacy field.
 */
export class LegacyInputError extends Error {}

/** How a legacy route names the fields of a request, for its error messages. */
export type LegacyFieldNames = Partial<Record<RuleViolation["field"], string>>;

const MAX_UINT32 = 0xffff_ffff;
const tokenTypes = ["rtc", "rtm", "chat"] as const satisfies readonly TokenKind[];
const roles: Record<string, RtcRole> = {
  publisher: RtcRole.PUBLISHER,
  subscriber: RtcRole.SUBSCRIBER,
};

/** A violation in the words of a legacy route: its field name, the shared rule. */
export function legacyMessage(violation: RuleViolation, names: LegacyFieldNames): string {
  return `${names[violation.field] ?? violation.field} ${violation.rule}`;
}

/** `publisher` or `subscriber`; `""` means not given, which the token rules refuse. */
export function legacyRole(role: string, field = "role"): RtcRole {
  if (role === "") return RtcRole.UNSPECIFIED;
  const parsed = Object.hasOwn(roles, role) ? roles[role] : undefined;
  if (parsed === undefined)
    throw new LegacyInputError(`${field} must be "publisher" or "subscriber"`);
  return parsed;
}

/**
 * A lifetime in seconds; `undefined` means the default. Values the uint32 contract cannot carry
 * get the token rules' own message.
 */
export function legacyExpire(value: number | undefined, kind: TokenKind, field: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value))
    throw new LegacyInputError(`${field} must be an integer number of seconds`);
  if (value < 0 || value > MAX_UINT32) {
    const result = resolveExpireSeconds(kind, value);
    if (result.kind === "invalid") {
      throw new LegacyInputError(legacyMessage(result.violation, { expire_seconds: field }));
    }
  }
  return value;
}

export function rtcRequest(value: {
  channel: string;
  uid: string;
  role: RtcRole;
  expireSeconds: number;
}): GetTokenRequest {
  return create(GetTokenRequestSchema, { request: { case: "rtc", value } });
}

export function rtmRequest(value: {
  uid: string;
  channel: string;
  expireSeconds: number;
}): GetTokenRequest {
  return create(GetTokenRequestSchema, { request: { case: "rtm", value } });
}

export function chatRequest(value: { uid: string; expireSeconds: number }): GetTokenRequest {
  return create(GetTokenRequestSchema, { request: { case: "chat", value } });
}

/** A legacy body: UTF-8, one strict JSON document (see `parseStrictJson`), an object. */
export function jsonObjectFromBody(bytes: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new LegacyInputError("body must be UTF-8 encoded JSON");
  }
  const parsed = parseStrictJson(text);
  if (parsed.kind === "invalid") throw new LegacyInputError(parsed.reason);
  const body = parsed.value;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new LegacyInputError("body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** Field names of the `POST /getToken` body. */
export const getTokenFieldNames: LegacyFieldNames = { expire_seconds: "expire" };

/**
 * Turns the flat `POST /getToken` body into a `GetTokenRequest`. Strict: one JSON object, no
 * repeated keys, right JSON types; `null` counts as absent; unknown fields are ignored.
 */
export function getTokenRequestFromJson(bytes: Buffer): GetTokenRequest {
  const fields = jsonObjectFromBody(bytes);
  const tokenType = fields.tokenType ?? undefined;
  const kind = tokenTypes.find((candidate) => candidate === tokenType);
  if (kind === undefined) {
    throw new LegacyInputError(
      tokenType === undefined
        ? 'tokenType is required and must be "rtc" or "rtm" or "chat"'
        : 'tokenType must be "rtc" or "rtm" or "chat"',
    );
  }
  const channel = optionalString(fields, "channel");
  const uid = jsonUid(fields.uid ?? undefined);
  const expire = fields.expire ?? undefined;
  if (expire !== undefined && typeof expire !== "number") {
    throw new LegacyInputError("expire must be an integer number of seconds");
  }
  const expireSeconds = legacyExpire(expire, kind, "expire");
  switch (kind) {
    case "rtc":
      return rtcRequest({
        channel,
        uid,
        role: legacyRole(optionalString(fields, "role")),
        expireSeconds,
      });
    case "rtm":
      return rtmRequest({ uid, channel, expireSeconds });
    case "chat":
      return chatRequest({ uid, expireSeconds });
  }
}

/** A string field; absent or `null` reads as "" (which the rules treat as not given). */
function optionalString(fields: Record<string, unknown>, name: string): string {
  const value = fields[name] ?? "";
  if (typeof value !== "string") throw new LegacyInputError(`${name} must be a string`);
  return value;
}

/**
 * `uid` is a string, or a non-negative integer that becomes its decimal string. `-0` is refused:
 * it would read as `"0"`, any user, from a caller who wrote a minus sign.
 */
function jsonUid(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && !Object.is(value, -0)) {
    if (!Number.isSafeInteger(value)) {
      throw new LegacyInputError(
        "uid as a JSON number must be at most 9007199254740991; send larger uids as strings",
      );
    }
    return String(value);
  }
  throw new LegacyInputError("uid must be a string or a non-negative integer");
}
