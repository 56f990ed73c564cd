import { type ApiKey, findApiKey } from "./api-keys.js";
import type { Caller } from "./caller.js";
import type { JwtVerifier } from "./jwt-verifier.js";

/**
 * `unauthenticated`: no or bad credentials (→ 401). `unavailable`: the credentials could not be
 * checked for a reason that is not the caller's (the JWKS is unreachable, → 503).
 */
export type Authentication =
  | { kind: "ok"; caller: Caller }
  | { kind: "unauthenticated"; reason: string }
  | { kind: "unavailable"; reason: string };

export interface Authenticator {
  /** True when nothing is configured: every caller is anonymous and may mint anything. */
  readonly open: boolean;
  /** Reads `Authorization: Bearer …` or `X-API-Key`; `clientAddress` names anonymous callers. */
  authenticate(header: Headers, clientAddress: string): Promise<Authentication>;
}

export interface AuthenticatorOptions {
  apiKeys: readonly ApiKey[];
  /** Absent when no JWT key source is configured. */
  jwt: JwtVerifier | undefined;
}

const BEARER = /^Bearer +(\S+) *$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Tells who a caller is from their headers. An `X-API-Key` must be a configured key; a Bearer
 * credential is an API key when it matches one, else a JWT when JWTs are configured.
 */
export function createAuthenticator({ apiKeys, jwt }: AuthenticatorOptions): Authenticator {
  const open = apiKeys.length === 0 && jwt === undefined;
  const unauthenticated = (reason: string) => ({ kind: "unauthenticated", reason }) as const;
  const wanted =
    jwt === undefined ? "an API key" : apiKeys.length === 0 ? "a JWT" : "an API key or a JWT";

  return {
    open,
    async authenticate(header, clientAddress) {
      if (open) return { kind: "ok", caller: { kind: "anonymous", address: clientAddress } };
      const apiKeyHeader = header.get("x-api-key");
      if (apiKeyHeader !== null) {
        const key = findApiKey(apiKeys, apiKeyHeader);
        return key
          ? { kind: "ok", caller: { kind: "service", name: key.name } }
          : unauthenticated("the X-API-Key header is not a valid API key");
      }
      const authorization = header.get("authorization");
      if (authorization === null) {
        return unauthenticated(`no credentials. Send ${wanted} as Authorization Bearer`);
      }
      const credential = BEARER.exec(authorization)?.[1];
      if (credential === undefined) {
        return unauthenticated(`the Authorization header must be Bearer followed by ${wanted}`);
      }
      const key = findApiKey(apiKeys, credential);
      if (key) return { kind: "ok", caller: { kind: "service", name: key.name } };
      if (jwt !== undefined && JWT_SHAPE.test(credential)) return jwt.verify(credential);
      return unauthenticated(
        jwt === undefined ? "the API key is not valid" : `the Bearer credential is not ${wanted}`,
      );
    },
  };
}
