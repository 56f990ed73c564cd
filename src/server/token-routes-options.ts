import { parseApiKeys } from "../auth/api-keys.js";
import { type AuthConfig, checkApiKeysDiffer } from "../auth/read-auth-config.js";
import { type Config, ConfigError, loadConfig } from "../load-config.js";
import type { RateLimitConfig } from "../rate-limit/read-rate-limit-config.js";
import type { Credentials } from "../token/credentials.js";
import type { TrustProxy } from "./http/client-address.js";
import type { CorsAllowOrigin } from "./http/cors.js";

/** The settings of {@link createTokenRoutes}: the service's own, as an object instead of variables. */
export interface TokenRoutesSettings {
  /** Your Agora project: App ID and App Certificate, each exactly 32 hex characters. */
  credentials: {
    appId: string;
    appCertificate: string;
    /** The other certificate during a rotation (InspectToken accepts it too). */
    secondaryAppCertificate?: string | undefined;
  };
  /** Service callers, each sending its key as `X-API-Key`. Keys: 16–512 printable characters. */
  apiKeys?: readonly { name: string; key: string }[] | undefined;
  /** End users, each sending a JWT from your identity provider as `Authorization: Bearer`. */
  jwt?:
    | {
        /** The provider's JWKS URL (https; http only for localhost). Give this or `publicKey`. */
        jwksUrl?: string | undefined;
        /** One public key in PEM (RSA, EC or Ed25519). */
        publicKey?: string | undefined;
        /** The exact `iss` of accepted JWTs. */
        issuer: string;
        /** The `aud` accepted JWTs must carry (any one of a list). */
        audience: string | readonly string[];
        /** The claim holding the user's Agora uid. Default `sub`. */
        uidClaim?: string | undefined;
        /** The claim listing the channels (with `*` globs) a user may join. */
        channelsClaim?: string | undefined;
        /** The claim that must be `true` for uid 0 RTC tokens and Chat app tokens. */
        adminClaim?: string | undefined;
        /** Allowed JWS algorithms; default every asymmetric one. */
        algorithms?: readonly string[] | undefined;
        /** Clock skew allowed on `exp` and `nbf`, 0–300 s. Default 30. */
        clockToleranceSeconds?: number | undefined;
      }
    | undefined;
  /** Tokens each caller may mint per minute (token bucket); absent: no limit. */
  rateLimit?:
    | {
        perMinute: number;
        /** Bucket size. Default `perMinute`. */
        burst?: number | undefined;
        /** Callers remembered in memory (1000–10000000). Default 100000. */
        maxCallers?: number | undefined;
        /** `redis://` or `rediss://`: one shared limit for every replica. */
        redisUrl?: string | undefined;
        /** While Redis is unreachable: `open` (default) lets calls through, `closed` refuses them. */
        redisFailure?: "open" | "closed" | undefined;
      }
    | undefined;
  /** Web pages on other origins that may call the token routes: `"*"` or exact origins. Default none. */
  cors?: { allowOrigin: "*" | readonly string[] } | undefined;
  limits?:
    | {
        /** Largest legacy JSON body and RPC message, before and after decompression. Default 20480. */
        maxBodyBytes?: number | undefined;
        /** Streaming calls (`Health/Watch`) open at once. Default 1000. */
        maxStreamingCalls?: number | undefined;
        /** Longest a streaming call stays open, in ms (100 ms to 24 h). Default 300000. */
        streamingCallMaxAgeMs?: number | undefined;
      }
    | undefined;
  /** How far to believe `X-Forwarded-For` for open mode's rate-limit key: `false`, `true` or 1–10 proxies. */
  trustProxy?: boolean | number | undefined;
}

/** The settings checked and in the service's own shapes. */
export interface CheckedTokenRoutesSettings {
  credentials: Credentials;
  auth: AuthConfig;
  rateLimit: RateLimitConfig | undefined;
  corsAllowOrigin: CorsAllowOrigin;
  limits: Pick<Config["limits"], "maxBodyBytes" | "maxStreamingCalls" | "streamingCallMaxAgeMs">;
  trustProxy: TrustProxy;
}

/** Each option's variable of the standalone service, whose rules (and messages) it shares. */
const VARIABLE_OF_OPTION = {
  "credentials.appId": "APP_ID",
  "credentials.appCertificate": "APP_CERTIFICATE",
  "credentials.secondaryAppCertificate": "APP_CERTIFICATE_SECONDARY",
  "jwt.jwksUrl": "JWT_JWKS_URL",
  "jwt.publicKey": "JWT_PUBLIC_KEY",
  "jwt.issuer": "JWT_ISSUER",
  "jwt.audience": "JWT_AUDIENCE",
  "jwt.uidClaim": "JWT_UID_CLAIM",
  "jwt.channelsClaim": "JWT_CHANNELS_CLAIM",
  "jwt.adminClaim": "JWT_ADMIN_CLAIM",
  "jwt.algorithms": "JWT_ALGORITHMS",
  "jwt.clockToleranceSeconds": "JWT_CLOCK_TOLERANCE_SECONDS",
  "rateLimit.perMinute": "RATE_LIMIT_PER_MINUTE",
  "rateLimit.burst": "RATE_LIMIT_BURST",
  "rateLimit.maxCallers": "RATE_LIMIT_MAX_CALLERS",
  "rateLimit.redisUrl": "REDIS_URL",
  "rateLimit.redisFailure": "RATE_LIMIT_REDIS_FAILURE",
  "cors.allowOrigin": "CORS_ALLOW_ORIGIN",
  "limits.maxBodyBytes": "MAX_BODY_BYTES",
  "limits.maxStreamingCalls": "MAX_STREAMING_CALLS",
  "limits.streamingCallMaxAgeMs": "STREAMING_CALL_MAX_AGE_MS",
  trustProxy: "TRUST_PROXY",
} as const;

type OptionPath = keyof typeof VARIABLE_OF_OPTION;

const OPTION_OF_VARIABLE = new Map<string, string>(
  Object.entries(VARIABLE_OF_OPTION).map(([option, variable]) => [variable, option]),
);
// Longest first, so that APP_CERTIFICATE_SECONDARY is not read as APP_CERTIFICATE.
const VARIABLE_IN_TEXT = new RegExp(
  `\\b(${[...OPTION_OF_VARIABLE.keys()].sort((a, b) => b.length - a.length).join("|")})\\b`,
  "g",
);

/** What a list option may be given as, and a whole number, for the type checks. */
const LIST_OPTIONS = new Set<OptionPath>(["jwt.audience", "jwt.algorithms", "cors.allowOrigin"]);
const NUMBER_OPTIONS = new Set<OptionPath>([
  "jwt.clockToleranceSeconds",
  "rateLimit.perMinute",
  "rateLimit.burst",
  "rateLimit.maxCallers",
  "limits.maxBodyBytes",
  "limits.maxStreamingCalls",
  "limits.streamingCallMaxAgeMs",
]);
const GROUPS = ["credentials", "jwt", "rateLimit", "cors", "limits"] as const;
const TOP_LEVEL = new Set<string>([...GROUPS, "apiKeys", "trustProxy"]);

/**
 * Checks the settings by the standalone service's own rules (each option is the variable of the
 * README's configuration table it names), and throws one {@link ConfigError} listing every
 * problem by its option path (`rateLimit.perMinute must be …`). An option that does not exist
 * is refused rather than ignored; nothing is read from `process.env`.
 */
export function checkTokenRoutesSettings(
  settings: TokenRoutesSettings,
  extraOptions: readonly string[] = [],
): CheckedTokenRoutesSettings {
  const problems: string[] = [];
  const given = settings as unknown as Record<string, unknown>;
  if (typeof given !== "object" || given === null)
    throw new ConfigError(["options must be an object"]);
  const known = new Set([...TOP_LEVEL, ...extraOptions]);
  for (const key of Object.keys(given)) if (!known.has(key)) problems.push(`${key} is no option`);
  const env: Record<string, string> = {};
  for (const group of GROUPS) {
    const value = given[group];
    if (value === undefined) continue;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(`${group} must be an object`);
      continue;
    }
    for (const [key, member] of Object.entries(value)) {
      const path = `${group}.${key}`;
      if (!(path in VARIABLE_OF_OPTION)) problems.push(`${path} is no option`);
      else readOption(path as OptionPath, member, env, problems);
    }
  }
  if (given.trustProxy !== undefined) readOption("trustProxy", given.trustProxy, env, problems);
  // Without both, the standalone service would sign with the demo credentials: never here.
  if (env.APP_ID === undefined && env.APP_CERTIFICATE === undefined) {
    problems.push("credentials.appId and credentials.appCertificate are required");
  }
  // An empty jwt would otherwise leave the routes open to anyone.
  if (settings.jwt !== undefined && !Object.keys(env).some((name) => name.startsWith("JWT_"))) {
    problems.push("jwt needs jwt.jwksUrl or jwt.publicKey, jwt.issuer and jwt.audience");
  }
  if (settings.rateLimit !== undefined && env.RATE_LIMIT_PER_MINUTE === undefined) {
    problems.push("rateLimit.perMinute is required with rateLimit");
  }
  if (settings.cors !== undefined && env.CORS_ALLOW_ORIGIN === undefined) {
    problems.push("cors.allowOrigin is required with cors");
  }
  const apiKeys = readApiKeys(given.apiKeys, problems);

  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems.map(inOptionTerms));
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return {
    credentials: config.credentials,
    auth: Object.freeze({ ...config.auth, apiKeys }),
    rateLimit: config.rateLimit,
    corsAllowOrigin: config.corsAllowOrigin,
    limits: config.limits,
    trustProxy: config.trustProxy,
  };
}

/** Puts one option into `env` as its variable's text, after checking its type. */
function readOption(
  path: OptionPath,
  value: unknown,
  env: Record<string, string>,
  problems: string[],
): void {
  if (value === undefined) return;
  const variable = VARIABLE_OF_OPTION[path];
  if (path === "trustProxy") {
    if (typeof value === "boolean" || typeof value === "number") env[variable] = String(value);
    else problems.push("trustProxy must be false, true or a number of proxies from 1 to 10");
    return;
  }
  if (path === "cors.allowOrigin" && value === "*") {
    env[variable] = "*";
    return;
  }
  if (LIST_OPTIONS.has(path) && Array.isArray(value)) {
    const entries = value as unknown[];
    if (entries.some((entry) => typeof entry !== "string" || entry.includes(","))) {
      problems.push(`${path} must be a list of strings without commas`);
      return;
    }
    if (path === "cors.allowOrigin" && entries.includes("*")) {
      problems.push(
        'cors.allowOrigin must be "*" itself or a list of origins, not a list with "*"',
      );
      return;
    }
    env[variable] = entries.join(",");
    return;
  }
  if (NUMBER_OPTIONS.has(path)) {
    // The variable's rule then says which whole numbers it takes.
    if (typeof value === "number") env[variable] = Number.isInteger(value) ? String(value) : "x";
    else problems.push(`${path} must be a number`);
    return;
  }
  if (typeof value !== "string") {
    problems.push(
      LIST_OPTIONS.has(path)
        ? `${path} must be a string or a list of strings`
        : `${path} must be a string`,
    );
    return;
  }
  // An empty string is no setting for a variable, but here it is a mistake to say so.
  if (value === "") problems.push(`${path} must not be empty`);
  else env[variable] = value;
}

function readApiKeys(value: unknown, problems: string[]) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push("apiKeys must be a list of { name, key }");
    return [];
  }
  const entries = (value as unknown[]).map((entry) => {
    const { name, key } = (entry ?? {}) as { name?: unknown; key?: unknown };
    // A name with a colon, or one that is no string, fails the name rule as it would in a file.
    const safeName = typeof name === "string" && !name.includes(":") ? name : "";
    return `${safeName}:${typeof key === "string" ? key : ""}`;
  });
  const parsed = parseApiKeys(entries, "apiKeys");
  problems.push(...parsed.problems);
  checkApiKeysDiffer(parsed.keys, problems);
  return parsed.keys;
}

/** A problem worded with variables (`RATE_LIMIT_BURST needs …`), in option paths. */
function inOptionTerms(problem: string): string {
  return problem.replace(
    VARIABLE_IN_TEXT,
    (variable) => OPTION_OF_VARIABLE.get(variable) ?? variable,
  );
}
