import { Code } from "@connectrpc/connect";
import { createAuthenticator } from "../auth/authenticator.js";
import { createJwtVerifier, type JwtSettings } from "../auth/jwt-verifier.js";
import type { AuthConfig } from "../auth/read-auth-config.js";
import { createMemoryRateLimiter } from "../rate-limit/memory-rate-limiter.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import type { RateLimitConfig } from "../rate-limit/read-rate-limit-config.js";
import { createRedisRateLimiter } from "../rate-limit/redis-rate-limiter.js";
import { type CallGuard, createCallGuard } from "./call-guard.js";

export type Log = (level: "info" | "warn" | "error", msg: string, fields?: object) => void;

export interface AccessControl {
  /** For `createServer`: the guard every protocol and legacy route runs. */
  callGuard: CallGuard;
  /** For a readiness probe: false while the shared rate-limit store (Redis) does not answer. */
  isRateLimiterReady(): boolean | Promise<boolean>;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

/**
 * Builds authentication, authorization and rate limiting from the configuration, and says at
 * start-up which mode is in force (loudly for open mode). Never logs a key or a token.
 */
export function createAccessControl(
  config: { auth: AuthConfig; rateLimit: RateLimitConfig | undefined },
  log: Log,
): AccessControl {
  const { apiKeys, jwt } = config.auth;
  const authenticator = createAuthenticator({
    apiKeys,
    jwt: jwt && createJwtVerifier(jwt),
  });
  if (authenticator.open) {
    log(
      "warn",
      "OPEN MODE: no API_KEYS, API_KEYS_FILE, JWT_JWKS_URL or JWT_PUBLIC_KEY is set, so ANYONE who can reach this port may mint ANY token (wildcard RTC, Chat app). Configure API keys and/or JWTs (README, Security).",
    );
  } else {
    // Not under `jwt`, a field the logger censors whole wherever it appears.
    log("info", "callers must authenticate", {
      apiKeys: apiKeys.map((key) => key.name),
      jwtSettings: jwt && describeJwtSettings(jwt),
    });
  }

  let rateLimiter: RateLimiter | undefined;
  const { rateLimit } = config;
  if (rateLimit) {
    rateLimiter = rateLimit.redisUrl
      ? createRedisRateLimiter({
          url: rateLimit.redisUrl,
          limit: rateLimit.limit,
          onFailure: rateLimit.redisFailure,
          log: (level, msg) => log(level, msg),
        })
      : createMemoryRateLimiter({ limit: rateLimit.limit, maxKeys: rateLimit.maxCallers });
    log("info", "rate limit per caller", {
      ...rateLimit.limit,
      store: rateLimit.redisUrl ? "redis" : "memory",
      ...(!rateLimit.redisUrl && { maxCallers: rateLimit.maxCallers }),
      ...(rateLimit.redisUrl && { redisFailure: rateLimit.redisFailure }),
    });
  }

  return {
    callGuard: createCallGuard({
      authenticator,
      rateLimiter,
      onRefusal: ({ code, caller, reason }) =>
        log("warn", `call refused: ${reason}`, { code: Code[code], caller: caller ?? null }),
    }),
    isRateLimiterReady: () => rateLimiter?.isReady() ?? true,
    close: async () => {
      await rateLimiter?.close();
    },
  };
}

/**
 * What the start-up log shows of the JWT settings: all of them, none being secret, except a
 * user name and password written into the JWKS URL.
 */
function describeJwtSettings(jwt: JwtSettings): Record<string, unknown> {
  let keys = "JWT_PUBLIC_KEY";
  if (jwt.keySource.kind === "jwks") {
    const url = new URL(jwt.keySource.url.href);
    const hadUserInfo = url.username !== "" || url.password !== "";
    url.username = "";
    url.password = "";
    keys = hadUserInfo ? url.href.replace("//", "//[redacted]@") : url.href;
  }
  return {
    keys,
    issuer: jwt.issuer,
    audiences: jwt.audiences,
    algorithms: jwt.algorithms,
    uidClaim: jwt.uidClaim,
    channelsClaim: jwt.channelsClaim ?? null,
    adminClaim: jwt.adminClaim ?? null,
    clockToleranceSeconds: jwt.clockToleranceSeconds,
  };
}
