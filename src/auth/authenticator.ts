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

/** The credential headers a request carried: every copy of each, as sent. */
export interface PresentedCredentials {
  readonly authorization: readonly string[];
  readonly apiKey: readonly string[];
}

export interface Authenticator {
  /** True when nothing is configured: every caller is anonymous and may mint anything. */
  readonly open: boolean;
  /**
   * Reads `Authorization: Bearer …` or `X-API-Key`; `clientAddress` names anonymous callers. A
   * request that repeats either header, or whose two headers do not name the same caller, is
   * refused: a proxy in front may have picked the other one.
   */
  authenticate(credentials: PresentedCredentials, clientAddress: string): Promise<Authentication>;
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
 * credential is an API key when it matches one, else a JWT when JWTs are configured. With both
 * headers, both must name the same caller.
 */
export function createAuthenticator({ apiKeys, jwt }: AuthenticatorOptions): Authenticator {
  const open = apiKeys.length === 0 && jwt === undefined;
  const unauthenticated = (reason: string) => ({ kind: "unauthenticated", reason }) as const;
  const wanted =
    jwt === undefined ? "an API key" : apiKeys.length === 0 ? "a JWT" : "an API key or a JWT";

  const fromApiKeyHeader = (value: string): Authentication => {
    const key = findApiKey(apiKeys, value);
    return key
      ? { kind: "ok", caller: { kind: "service", name: key.name } }
      : unauthenticated("the X-API-Key header is not a valid API key");
  };
  const fromAuthorization = async (value: string): Promise<Authentication> => {
    const credential = BEARER.exec(value)?.[1];
    if (credential === undefined) {
      return unauthenticated(`the Authorization header must be Bearer followed by ${wanted}`);
    }
    const key = findApiKey(apiKeys, credential);
    if (key) return { kind: "ok", caller: { kind: "service", name: key.name } };
    if (jwt !== undefined && JWT_SHAPE.test(credential)) return jwt.verify(credential);
    return unauthenticated(
      jwt === undefined ? "the API key is not valid" : `the Bearer credential is not ${wanted}`,
    );
  };

  return {
    open,
    async authenticate({ authorization, apiKey }, clientAddress) {
      if (open) return { kind: "ok", caller: { kind: "anonymous", address: clientAddress } };
      if (authorization.length > 1) {
        return unauthenticated("the request has more than one Authorization header. Send one");
      }
      if (apiKey.length > 1) {
        return unauthenticated("the request has more than one X-API-Key header. Send one");
      }
      const [apiKeyHeader] = apiKey;
      const [authorizationHeader] = authorization;
      if (apiKeyHeader === undefined && authorizationHeader === undefined) {
        return unauthenticated(`no credentials. Send ${wanted} as Authorization Bearer`);
      }
      const byKey = apiKeyHeader === undefined ? undefined : fromApiKeyHeader(apiKeyHeader);
      if (byKey !== undefined && byKey.kind !== "ok") return byKey;
      const byAuthorization =
        authorizationHeader === undefined
          ? undefined
          : await fromAuthorization(authorizationHeader);
      if (byAuthorization === undefined) return byKey as Authentication;
      if (byKey === undefined || byAuthorization.kind !== "ok") return byAuthorization;
      return sameCaller(byKey.caller, byAuthorization.caller)
        ? byKey
        : unauthenticated("X-API-Key and Authorization name different callers. Send one of them");
    },
  };
}

function sameCaller(a: Caller, b: Caller): boolean {
  return a.kind === "service" && b.kind === "service" && a.name === b.name;
}
