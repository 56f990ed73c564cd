import { availableParallelism } from "node:os";
import { type AuthConfig, readAuthConfig } from "./auth/read-auth-config.js";
import { countNoun } from "./count-noun.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./observability/logger.js";
import { type RateLimitConfig, readRateLimitConfig } from "./rate-limit/read-rate-limit-config.js";
import type { ServerLimits } from "./server/create-server.js";
import { readTrustProxy, type TrustProxy } from "./server/http/client-address.js";
import type { CorsAllowOrigin } from "./server/http/cors.js";
import { readOriginList } from "./server/http/origin-list.js";
import { type Credentials, DEMO_CREDENTIALS, isAgoraId } from "./token/credentials.js";

export { DEMO_CREDENTIALS };

export interface Config {
  readonly credentials: Credentials;
  /** True when no credentials were configured and the demo ones are in use. */
  readonly usingDemoCredentials: boolean;
  /**
   * The address to listen on: `HOST`, else loopback with the demo credentials (a mint-anything
   * service should not be on the network of whoever tried it) and every interface otherwise.
   */
  readonly host: string;
  /** True when `HOST` is unset and the demo credentials chose loopback. */
  readonly loopbackForDemo: boolean;
  readonly port: number;
  readonly corsAllowOrigin: CorsAllowOrigin;
  readonly limits: Readonly<ServerLimits>;
  readonly shutdownTimeoutMs: number;
  /** API keys and JWT settings; neither configured = open mode. */
  readonly auth: AuthConfig;
  /** `undefined`: no rate limit. */
  readonly rateLimit: RateLimitConfig | undefined;
  readonly trustProxy: TrustProxy;
  /** How long the server keeps serving after SIGTERM while it reports not ready, in ms. */
  readonly shutdownDelayMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** A separate port for `GET /metrics`; undefined serves it on the main port. */
  readonly metricsPort: number | undefined;
  /** Serve the token playground at `GET /`. */
  readonly playground: boolean;
  /** Other token services the playground page may call, besides its own origin. */
  readonly playgroundServiceOrigins: readonly string[];
  /** Processes serving the one port (node:cluster); 1 runs in this process. */
  readonly workers: number;
}

/** Thrown by {@link loadConfig}; the message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOOPBACK = "127.0.0.1";

/**
 * Reads the service's settings from `env` and returns them frozen, or throws one
 * {@link ConfigError} naming every variable that is wrong. Never includes secret values in it.
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const credentials = readCredentials(env, problems);
  const portName = env.SERVER_PORT ? "SERVER_PORT" : "PORT";
  const config: Config = {
    credentials: credentials ?? DEMO_CREDENTIALS,
    usingDemoCredentials: credentials === undefined,
    host: env.HOST || (credentials === undefined ? LOOPBACK : "0.0.0.0"),
    loopbackForDemo: !env.HOST && credentials === undefined,
    port: integer(portName, 8080, 0, 65_535),
    corsAllowOrigin: readCorsAllowOrigin(env.CORS_ALLOW_ORIGIN, problems),
    limits: Object.freeze({
      maxBodyBytes: integer("MAX_BODY_BYTES", 20_480, 64, 16 * 1024 * 1024),
      headersTimeoutMs: integer("HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
      requestTimeoutMs: integer("REQUEST_TIMEOUT_MS", 30_000, 100, 600_000),
      keepAliveTimeoutMs: integer("KEEP_ALIVE_TIMEOUT_MS", 5_000, 100, 600_000),
      maxHeaderBytes: integer("MAX_HEADER_BYTES", 16_384, 1_024, 1024 * 1024),
      maxConnections: integer("MAX_CONNECTIONS", 10_000, 1, 1_000_000),
      http2MaxConcurrentStreams: integer("HTTP2_MAX_CONCURRENT_STREAMS", 100, 1, 10_000),
      http2MaxSessionMemoryMb: integer("HTTP2_MAX_SESSION_MEMORY_MB", 10, 1, 1_024),
      http2MaxSettings: integer("HTTP2_MAX_SETTINGS", 32, 1, 1_000),
      http2MaxOutstandingPings: integer("HTTP2_MAX_OUTSTANDING_PINGS", 10, 1, 1_000),
      http2MaxInvalidFrames: integer("HTTP2_MAX_INVALID_FRAMES", 1_000, 0, 100_000),
      http2MaxRejectedStreams: integer("HTTP2_MAX_REJECTED_STREAMS", 100, 0, 100_000),
      http2IdleTimeoutMs: integer("HTTP2_IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000),
      maxStreamingCalls: integer("MAX_STREAMING_CALLS", 1_000, 1, 1_000_000),
      streamingCallMaxAgeMs: integer("STREAMING_CALL_MAX_AGE_MS", 300_000, 100, 86_400_000),
    }),
    shutdownTimeoutMs: integer("SHUTDOWN_TIMEOUT_MS", 8_000, 0, 600_000),
    auth: Object.freeze(readAuthConfig(env, problems)),
    rateLimit: readRateLimitConfig(env, problems),
    trustProxy: readTrustProxy(env.TRUST_PROXY, problems),
    shutdownDelayMs: integer("SHUTDOWN_DELAY_MS", 0, 0, 600_000),
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info", problems),
    logFormat: oneOf(
      env,
      "LOG_FORMAT",
      LOG_FORMATS,
      env.NODE_ENV === "development" ? "pretty" : "json",
      problems,
    ),
    metricsPort: env.METRICS_PORT ? integer("METRICS_PORT", 0, 0, 65_535) : undefined,
    playground: readPlayground(env, problems),
    playgroundServiceOrigins: Object.freeze(
      readOriginList("PLAYGROUND_SERVICE_ORIGINS", env.PLAYGROUND_SERVICE_ORIGINS, problems),
    ),
    workers: env.WORKERS === "auto" ? availableParallelism() : integer("WORKERS", 1, 1, 64),
  };
  if (
    config.metricsPort !== undefined &&
    config.metricsPort !== 0 &&
    config.metricsPort === config.port
  ) {
    problems.push(`METRICS_PORT must differ from ${portName}`);
  }
  if (config.limits.headersTimeoutMs > config.limits.requestTimeoutMs) {
    problems.push("HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** An enumerated setting: unset or empty is `fallback`; anything else must be one of `allowed`. */
function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name} must be one of ${allowed.join(", ")}`);
  return fallback;
}

function readCredentials(env: Env, problems: string[]): Credentials | undefined {
  const appId = env.APP_ID ?? "";
  const appCertificate = env.APP_CERTIFICATE ?? "";
  const secondary = env.APP_CERTIFICATE_SECONDARY ?? "";
  if (appId === "" && appCertificate === "") {
    if (env.NODE_ENV === "production") {
      problems.push("APP_ID and APP_CERTIFICATE are required when NODE_ENV is production");
    }
    if (secondary !== "") {
      problems.push("APP_CERTIFICATE_SECONDARY needs APP_ID and APP_CERTIFICATE to be set too");
    }
    return undefined;
  }
  for (const [name, value] of [
    ["APP_ID", appId],
    ["APP_CERTIFICATE", appCertificate],
  ] as const) {
    if (value === "") problems.push(`${name} is not set but the other credential is`);
    else if (!isAgoraId(value)) {
      // The length helps spot a pasted newline or space without showing the value.
      problems.push(
        `${name} must be exactly 32 hexadecimal characters (got ${countNoun(value.length, "character")})`,
      );
    }
  }
  if (secondary === "") return { appId, appCertificate };
  if (!isAgoraId(secondary)) {
    problems.push(
      `APP_CERTIFICATE_SECONDARY must be exactly 32 hexadecimal characters (got ${secondary.length} characters)`,
    );
  } else if (secondary.toLowerCase() === appCertificate.toLowerCase()) {
    problems.push(
      "APP_CERTIFICATE_SECONDARY must be the other certificate of the project, not APP_CERTIFICATE again",
    );
  }
  return { appId, appCertificate, secondaryAppCertificate: secondary };
}

/**
 * `*`, or a list of origins each exactly as browsers send them in `Origin`: an entry such as
 * `https://app.example.com/` or `app.example.com` could never match, so it is refused.
 */
function readCorsAllowOrigin(raw: string | undefined, problems: string[]): CorsAllowOrigin {
  const entries = (raw ?? "").split(",").map((entry) => entry.trim());
  if (entries.includes("*")) return "*";
  return Object.freeze(readOriginList("CORS_ALLOW_ORIGIN", raw, problems));
}

/** `PLAYGROUND=on|off`; unset: on, except with `NODE_ENV=production`. */
function readPlayground(env: Env, problems: string[]): boolean {
  const raw = env.PLAYGROUND ?? "";
  if (raw === "") return env.NODE_ENV !== "production";
  if (raw === "on" || raw === "off") return raw === "on";
  problems.push("PLAYGROUND must be on or off");
  return false;
}
