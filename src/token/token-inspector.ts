import { createHmac, timingSafeEqual } from "node:crypto";
import { type Credentials, DEMO_CREDENTIALS, isAgoraId } from "./credentials.js";
import {
  type ParsedAccessToken2,
  parseAccessToken2,
  type TokenProblem,
} from "./parse-access-token2.js";
import { privilegeName } from "./privilege-names.js";
import type { Clock } from "./token-minter.js";

export interface TokenInspectorOptions {
  /** The App ID and the certificates (primary, and secondary if any) the token is checked against. */
  credentials: Credentials;
  /** Decides `expired`; defaults to `Date.now`. */
  clock?: Clock;
}

/** A privilege with its absolute expiry (Unix seconds). */
export interface InspectedPrivilege {
  id: number;
  name: string;
  expireSeconds: number;
  expiresAt: number;
}

export interface InspectedService {
  type: number;
  channel: string;
  uid: string;
  userId: string;
  privileges: InspectedPrivilege[];
}

/** Which of the inspector's certificates a token's signature verifies with. */
export type SignedWith = "app-certificate" | "secondary-certificate" | "neither";

/** What a token says, checked against the inspector's credentials. Times are Unix seconds. */
export interface TokenInspection {
  appId: string;
  appIdMatches: boolean;
  issuedAt: number;
  expireSeconds: number;
  expiresAt: number;
  expired: boolean;
  /** True when `signedWith` names a certificate. */
  signatureValid: boolean;
  signedWith: SignedWith;
  /** True when the public demo credentials signed it (whatever the inspector's): Agora refuses it. */
  demoCredentials: boolean;
  salt: number;
  services: InspectedService[];
  servicesIncomplete: boolean;
}

export type InspectResult =
  | { kind: "ok"; inspection: TokenInspection }
  | { kind: "invalid"; violation: TokenProblem };

export interface TokenInspector {
  /** Reads `token`; never throws for any string. */
  inspect(token: string): InspectResult;
}

/**
 * Creates the inspector. AccessToken2 states every expiry in seconds after the issue time; the
 * inspection turns them into absolute times.
 */
export function createTokenInspector({
  credentials,
  clock = Date.now,
}: TokenInspectorOptions): TokenInspector {
  return {
    inspect(token) {
      const parsed = parseAccessToken2(token);
      if (parsed.kind === "invalid") return parsed;
      const { token: read } = parsed;
      const expiresAt = read.issuedAt + read.expireSeconds;
      const signedWith = signerOf(read, credentials);
      return {
        kind: "ok",
        inspection: {
          appId: read.appId,
          appIdMatches: read.appId === credentials.appId,
          issuedAt: read.issuedAt,
          expireSeconds: read.expireSeconds,
          expiresAt,
          expired: clock() / 1000 >= expiresAt,
          signatureValid: signedWith !== "neither",
          signedWith,
          demoCredentials:
            read.appId === DEMO_CREDENTIALS.appId &&
            signatureVerifies(read, DEMO_CREDENTIALS.appCertificate),
          salt: read.salt,
          services: read.services.map((service) => ({
            type: service.type,
            channel: service.channel,
            uid: service.uid,
            userId: service.userId,
            privileges: service.privileges.map((privilege) => ({
              id: privilege.id,
              name: privilegeName(service.type, privilege.id),
              expireSeconds: privilege.expireSeconds,
              expiresAt: read.issuedAt + privilege.expireSeconds,
            })),
          })),
          servicesIncomplete: read.servicesIncomplete,
        },
      };
    },
  };
}

/** A token does not say which certificate signed it: try the primary, then the secondary. */
function signerOf(token: ParsedAccessToken2, credentials: Credentials): SignedWith {
  if (signatureVerifies(token, credentials.appCertificate)) return "app-certificate";
  const secondary = credentials.secondaryAppCertificate;
  if (secondary !== undefined && signatureVerifies(token, secondary)) {
    return "secondary-certificate";
  }
  return "neither";
}

/**
 * AccessToken2's signature: HMAC-SHA256 over the signed content, keyed by the certificate
 * hashed with the issue time and then the salt. agora-token only signs with 32-hex-digit ids.
 */
function signatureVerifies(token: ParsedAccessToken2, appCertificate: string): boolean {
  if (!isAgoraId(token.appId) || !isAgoraId(appCertificate)) return false;
  const issuedAt = Buffer.alloc(4);
  issuedAt.writeUInt32LE(token.issuedAt);
  const salt = Buffer.alloc(4);
  salt.writeUInt32LE(token.salt);
  const signing = hmac(salt, hmac(issuedAt, appCertificate));
  const expected = hmac(signing, token.signedContent);
  return token.signature.length === expected.length && timingSafeEqual(token.signature, expected);
}

function hmac(key: Buffer, message: Buffer | string): Buffer {
  return createHmac("sha256", key).update(message).digest();
}
