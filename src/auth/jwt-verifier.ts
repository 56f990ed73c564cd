import type { KeyObject } from "node:crypto";
import type { errors as JoseErrors, JWTPayload } from "jose";
import type { Caller } from "./caller.js";

/** Where the keys that sign end users' JWTs come from. */
export type JwtKeySource = { kind: "jwks"; url: URL } | { kind: "public-key"; key: KeyObject };

/** The asymmetric algorithms a JWT may use; `none` and HMAC (`HS*`) are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

export interface JwtSettings {
  keySource: JwtKeySource;
  /** The `iss` every JWT must carry. */
  issuer: string;
  /** A JWT's `aud` must name one of these. */
  audiences: readonly string[];
  /** A subset of {@link ASYMMETRIC_ALGORITHMS}. */
  algorithms: readonly string[];
  /** Leeway for `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** The claim holding the user's uid (`sub` by default). */
  uidClaim: string;
  /** The claim listing the channel globs the user may join; unset = any channel. */
  channelsClaim: string | undefined;
  /** The claim that must be `true` for uid 0 and Chat app tokens; unset = never. */
  adminClaim: string | undefined;
}

export interface JwtVerifierOptions extends JwtSettings {
  /** After a JWKS fetch, how long an unknown `kid` waits before the next fetch (jose: 30 s). */
  jwksCooldownMs?: number;
  /** Longest a JWKS fetch may take, in ms. */
  jwksTimeoutMs?: number;
}

export type UserCaller = Extract<Caller, { kind: "user" }>;

/**
 * `unauthenticated`: the caller's JWT is not acceptable (→ Unauthenticated). `unavailable`: the keys
 * could not be fetched, which is not the caller's fault (→ Unavailable).
 */
export type JwtVerification =
  | { kind: "ok"; caller: UserCaller }
  | { kind: "unauthenticated"; reason: string }
  | { kind: "unavailable"; reason: string };

export interface JwtVerifier {
  verify(jwt: string): Promise<JwtVerification>;
}

/**
 * Verifies end users' JWTs with jose: signature by a key from the JWKS (cached, fetched again
 * when a `kid` is unknown) or the static public key, an allowed asymmetric algorithm, `exp`
 * required, issuer and audience as configured; then reads the uid, channels and admin claims.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const { keySource, uidClaim, channelsClaim, adminClaim } = options;
  const verifyOptions = {
    issuer: options.issuer,
    audience: [...options.audiences],
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["exp"],
  };
  // jose (about 9 MiB of RSS) loads only when JWTs are configured, not with this module.
  const verifier = import("jose").then((jose) => {
    const jwks =
      keySource.kind === "jwks"
        ? jose.createRemoteJWKSet(keySource.url, {
            ...(options.jwksCooldownMs !== undefined && {
              cooldownDuration: options.jwksCooldownMs,
            }),
            ...(options.jwksTimeoutMs !== undefined && {
              timeoutDuration: options.jwksTimeoutMs,
            }),
          })
        : undefined;
    return { jose, jwks };
  });

  return {
    async verify(jwt) {
      const { jose, jwks } = await verifier;
      let payload: JWTPayload;
      try {
        payload = jwks
          ? (await jose.jwtVerify(jwt, jwks, verifyOptions)).payload
          : (await jose.jwtVerify(jwt, (keySource as { key: KeyObject }).key, verifyOptions))
              .payload;
      } catch (error) {
        return verificationFailure(jose.errors, error, keySource.kind);
      }
      const uid = uidOf(payload[uidClaim]);
      if (uid === undefined) {
        return {
          kind: "unauthenticated",
          reason: "the JWT has no uid claim (a string or a whole number)",
        };
      }
      let channels: readonly string[] | undefined;
      if (channelsClaim !== undefined) {
        channels = channelsOf(payload[channelsClaim]);
        if (channels === undefined) {
          return {
            kind: "unauthenticated",
            reason: "the JWT channels claim must be a list of strings",
          };
        }
      }
      const subject = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : uid;
      return {
        kind: "ok",
        caller: {
          kind: "user",
          subject,
          uid,
          channels,
          admin: adminClaim !== undefined && payload[adminClaim] === true,
        },
      };
    },
  };
}

/** A non-empty string, or a whole number from 0 (`-0` would read as uid 0, any user). */
function uidOf(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    !Object.is(value, -0)
  )
    return String(value);
  return undefined;
}

/** A list of globs; a space-separated string (as OAuth scopes are written) also works; absent = none. */
function channelsOf(value: unknown): readonly string[] | undefined {
  if (value === undefined) return [];
  if (typeof value === "string") return value.split(" ").filter((glob) => glob !== "");
  if (Array.isArray(value) && value.every((glob) => typeof glob === "string")) return value;
  return undefined;
}

function verificationFailure(
  errors: typeof JoseErrors,
  error: unknown,
  source: JwtKeySource["kind"],
): Exclude<JwtVerification, { kind: "ok" }> {
  const invalid = (reason: string) => ({ kind: "unauthenticated", reason }) as const;
  if (error instanceof errors.JWTExpired) return invalid("the JWT has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "iss":
        return invalid("the JWT issuer is not the trusted one");
      case "aud":
        return invalid("the JWT audience is not this service");
      case "nbf":
        return invalid("the JWT is not valid yet");
      case "exp":
        return invalid("the JWT has no valid exp claim");
      default:
        return invalid("the JWT claims are not valid");
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("the JWT algorithm is not allowed");
  if (error instanceof errors.JOSENotSupported)
    return invalid("the JWT algorithm is not supported");
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("the JWT signature is not valid");
  }
  if (error instanceof errors.JWKSNoMatchingKey) return invalid("the JWT signing key is unknown");
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid("the JWT does not name a single signing key");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return invalid("the JWT is malformed");
  }
  // What is left is fetching the JWKS (network, timeout, not 200, not a key set): our problem.
  // A static key never fetches, so there it is a JWT that does not fit the key.
  if (source === "public-key") return invalid("the JWT does not fit the configured key");
  return { kind: "unavailable", reason: "the keys that verify JWTs could not be fetched" };
}
