import { randomInt } from "node:crypto";
import { type Credentials, isAgoraId } from "./credentials.js";
import { createAccessTokenEncoder } from "./encode-access-token.js";
import { earliestPrivilegeSeconds, grantFor } from "./token-grant.js";
import type { RuleViolation, TokenRequest } from "./token-request.js";

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;
/** An AccessToken2 salt, 1 to 99999999. */
export type SaltSource = () => number;

export interface TokenMinterOptions {
  credentials: Credentials;
  /** Defaults to `Date.now`. */
  clock?: Clock;
  /** Defaults to a cryptographically random salt. */
  salt?: SaltSource;
}

export type MintResult =
  | {
      kind: "ok";
      token: string;
      issuedAt: number;
      expiresAt: number;
      /** When the first privilege in the token expires (at most `expiresAt`). */
      privilegesExpireAt: number;
    }
  | { kind: "invalid"; violation: RuleViolation };

export interface TokenMinter {
  /** Validates and signs one request (always with the App Certificate). Times are Unix seconds. */
  mint(request: TokenRequest): MintResult;
}

const randomSalt: SaltSource = () => randomInt(1, 100_000_000);

/** Creates the minter; throws at once when the credentials are not 32 hex characters each. */
export function createTokenMinter({
  credentials,
  clock = Date.now,
  salt = randomSalt,
}: TokenMinterOptions): TokenMinter {
  if (!isAgoraId(credentials.appId) || !isAgoraId(credentials.appCertificate)) {
    throw new Error("App ID and App Certificate must each be 32 hexadecimal characters");
  }
  const encode = createAccessTokenEncoder(credentials);
  return {
    mint(request) {
      const result = grantFor(request);
      if (result.kind === "invalid") return result;
      const issuedAt = Math.floor(clock() / 1000);
      const { grant } = result;
      return {
        kind: "ok",
        token: encode(grant, issuedAt, salt()),
        issuedAt,
        expiresAt: issuedAt + grant.expireSeconds,
        privilegesExpireAt: issuedAt + earliestPrivilegeSeconds(grant),
      };
    },
  };
}
