import { expect } from "vitest";
import { type GetTokenRequest, RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import { type DecodedService, decodeToken, privilegesFor, SAMPLE } from "./decode-token.js";

/**
 * What a caller asked for, in the README's words. The oracle below is written from the README
 * ("What a token contains" and the rules under it), not from the service's code.
 */
export type AskedToken =
  | {
      kind: "rtc";
      channel: string;
      uid: string;
      role: "publisher" | "subscriber" | undefined;
      expireSeconds: number;
    }
  | { kind: "rtm"; uid: string; channel: string; expireSeconds: number }
  | { kind: "chat"; uid: string; expireSeconds: number };

const AGORA_NAME = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,]*$/;
const CHAT_UID = /^[a-zA-Z0-9_.-]{1,64}$/;

function agoraName(value: string, maxBytes: number): boolean {
  return value.length > 0 && Buffer.byteLength(value) <= maxBytes && AGORA_NAME.test(value);
}

/** True when the README's rules allow the request, so that the service must mint it. */
export function followsDocumentedRules(asked: AskedToken): boolean {
  if (!(Number.isInteger(asked.expireSeconds) && asked.expireSeconds >= 0)) return false;
  if (asked.expireSeconds > 86_400) return false;
  switch (asked.kind) {
    case "rtc":
      return agoraName(asked.channel, 64) && agoraName(asked.uid, 255) && asked.role !== undefined;
    case "rtm":
      return (
        agoraName(asked.uid, 64) &&
        !asked.uid.startsWith(" ") &&
        asked.uid !== "0" &&
        (asked.channel === "" || asked.channel === "*" || agoraName(asked.channel, 64))
      );
    case "chat":
      return asked.uid === "" || CHAT_UID.test(asked.uid);
  }
}

/** The token's lifetime and services the README promises for an allowed request. */
export function expectedContents(asked: AskedToken): {
  expireSeconds: number;
  services: DecodedService[];
} {
  const expireSeconds = asked.expireSeconds === 0 ? 3600 : asked.expireSeconds;
  const privileges = (ids: number[]) => privilegesFor(ids, expireSeconds);
  switch (asked.kind) {
    case "rtc":
      return {
        expireSeconds,
        services: [
          {
            type: 1,
            channel: asked.channel,
            // uid "0" means any user, which AccessToken2 writes as "".
            uid: asked.uid === "0" ? "" : asked.uid,
            privileges: privileges(asked.role === "publisher" ? [1, 2, 3, 4] : [1]),
          },
        ],
      };
    case "rtm":
      return {
        expireSeconds,
        services: [
          ...(asked.channel === ""
            ? []
            : [
                { type: 1, channel: asked.channel, uid: asked.uid, privileges: privileges([1, 4]) },
              ]),
          { type: 2, userId: asked.uid, privileges: privileges([1]) },
        ],
      };
    case "chat":
      return {
        expireSeconds,
        services: [{ type: 5, userId: asked.uid, privileges: privileges([asked.uid ? 1 : 2]) }],
      };
  }
}

/**
 * Asserts that a minted token is exactly what was asked: signed with the sample certificate,
 * issued now, with the promised services, privileges and lifetime; and `expiresAt` (Unix
 * seconds, when the protocol returns it) equal to issue time plus lifetime.
 */
export function expectTokenFor(token: string, asked: AskedToken, expiresAt?: number): void {
  expect(followsDocumentedRules(asked), "minted a token for a request the rules refuse").toBe(true);
  const decoded = decodeToken(token, SAMPLE.appCertificate);
  const expected = expectedContents(asked);
  expect(decoded.signatureValid).toBe(true);
  expect(decoded.appId).toBe(SAMPLE.appId);
  expect(Math.abs(decoded.issuedAt - Date.now() / 1000)).toBeLessThan(30);
  expect(decoded.expireSeconds).toBe(expected.expireSeconds);
  expect(decoded.services).toEqual(expected.services);
  if (expiresAt !== undefined) expect(expiresAt).toBe(decoded.issuedAt + decoded.expireSeconds);
}

/** The request a `GetTokenRequest` asks for, or undefined when it names no token kind. */
export function askedFromProto(request: GetTokenRequest): AskedToken | undefined {
  const { request: oneof } = request;
  switch (oneof.case) {
    case "rtc":
      return {
        kind: "rtc",
        channel: oneof.value.channel,
        uid: oneof.value.uid,
        role:
          oneof.value.role === RtcRole.PUBLISHER
            ? "publisher"
            : oneof.value.role === RtcRole.SUBSCRIBER
              ? "subscriber"
              : undefined,
        expireSeconds: oneof.value.expireSeconds,
      };
    case "rtm":
      return { kind: "rtm", ...pick(oneof.value, ["uid", "channel", "expireSeconds"]) };
    case "chat":
      return { kind: "chat", ...pick(oneof.value, ["uid", "expireSeconds"]) };
    default:
      return undefined;
  }
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}

/**
 * The request a legacy `POST /getToken` body asks for, read as the README's field table says
 * (`null` = absent, a numeric uid is its decimal string), or undefined when it cannot be one.
 */
export function askedFromLegacyBody(body: unknown): AskedToken | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = fields[name] ?? "";
    return typeof value === "string" ? value : undefined;
  };
  const rawUid = fields.uid ?? "";
  const uid =
    typeof rawUid === "string"
      ? rawUid
      : typeof rawUid === "number" && Number.isSafeInteger(rawUid) && rawUid >= 0
        ? String(rawUid)
        : undefined;
  const expire = fields.expire ?? 0;
  const channel = text("channel");
  if (uid === undefined || channel === undefined || typeof expire !== "number") return undefined;
  switch (fields.tokenType) {
    case "rtc": {
      const role = text("role");
      if (role !== "publisher" && role !== "subscriber") return undefined;
      return { kind: "rtc", channel, uid, role, expireSeconds: expire };
    }
    case "rtm":
      return { kind: "rtm", uid, channel, expireSeconds: expire };
    case "chat":
      return { kind: "chat", uid, expireSeconds: expire };
    default:
      return undefined;
  }
}
