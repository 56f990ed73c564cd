import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type ApiKey,
  apiKeyEntriesFromFile,
  apiKeyEntriesFromList,
  parseApiKeys,
} from "./api-keys.js";
import { ASYMMETRIC_ALGORITHMS, type JwtKeySource, type JwtSettings } from "./jwt-verifier.js";

/** Who may call: API keys (as digests) and the end users' JWT settings. Neither = open mode. */
export interface AuthConfig {
  readonly apiKeys: readonly ApiKey[];
  readonly jwt: Readonly<JwtSettings> | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const MAX_CLOCK_TOLERANCE_SECONDS = 300;
const CLAIM_NAME = /^\S{1,256}$/;

/**
 * Reads `API_KEYS`, `API_KEYS_FILE` and the `JWT_*` settings, adding what is wrong to
 * `problems`. Never puts a key or a token in a problem.
 */
export function readAuthConfig(
  env: Env,
  problems: string[],
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): AuthConfig {
  return { apiKeys: readApiKeys(env, problems, readFile), jwt: readJwtSettings(env, problems) };
}

function readApiKeys(env: Env, problems: string[], readFile: (path: string) => string): ApiKey[] {
  const keys: ApiKey[] = [];
  if (env.API_KEYS) {
    const parsed = parseApiKeys(apiKeyEntriesFromList(env.API_KEYS), "API_KEYS");
    keys.push(...parsed.keys);
    problems.push(...parsed.problems);
  }
  if (env.API_KEYS_FILE) {
    let text: string | undefined;
    try {
      text = readFile(env.API_KEYS_FILE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
      problems.push(`API_KEYS_FILE could not be read (${code})`);
    }
    if (text !== undefined) {
      const parsed = parseApiKeys(apiKeyEntriesFromFile(text), "API_KEYS_FILE");
      keys.push(...parsed.keys);
      problems.push(...parsed.problems);
      if (parsed.keys.length === 0 && parsed.problems.length === 0) {
        problems.push("API_KEYS_FILE has no name:key line");
      }
    }
  }
  checkApiKeysDiffer(keys, problems);
  return keys;
}

/** Adds a problem for a name or a key that two entries share. */
export function checkApiKeysDiffer(keys: readonly ApiKey[], problems: string[]): void {
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const key of keys) {
    if (names.has(key.name)) problems.push(`API key name ${key.name} is used twice`);
    const digest = key.digest.toString("hex");
    if (digests.has(digest)) problems.push(`API key ${key.name} repeats the key of another entry`);
    names.add(key.name);
    digests.add(digest);
  }
}

function readJwtSettings(env: Env, problems: string[]): JwtSettings | undefined {
  const keySource = readKeySource(env, problems);
  if (keySource === "none") {
    for (const name of [
      "JWT_ISSUER",
      "JWT_AUDIENCE",
      "JWT_UID_CLAIM",
      "JWT_CHANNELS_CLAIM",
      "JWT_ADMIN_CLAIM",
      "JWT_ALGORITHMS",
      "JWT_CLOCK_TOLERANCE_SECONDS",
    ]) {
      if (env[name]) problems.push(`${name} is set but neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is`);
    }
    return undefined;
  }
  const issuer = env.JWT_ISSUER ?? "";
  if (issuer === "") problems.push("JWT_ISSUER is required with JWT_JWKS_URL or JWT_PUBLIC_KEY");
  const audiences = (env.JWT_AUDIENCE ?? "")
    .split(",")
    .map((audience) => audience.trim())
    .filter((audience) => audience !== "");
  if (audiences.length === 0) {
    problems.push("JWT_AUDIENCE is required with JWT_JWKS_URL or JWT_PUBLIC_KEY");
  }
  const claim = (name: string, fallback?: string): string | undefined => {
    const value = env[name] || fallback;
    if (value !== undefined && !CLAIM_NAME.test(value)) {
      problems.push(`${name} must be a claim name without spaces`);
    }
    return value;
  };
  const algorithms = readAlgorithms(env.JWT_ALGORITHMS, problems);
  const clockToleranceSeconds = readClockTolerance(env.JWT_CLOCK_TOLERANCE_SECONDS, problems);
  const uidClaim = claim("JWT_UID_CLAIM", "sub") ?? "sub";
  const channelsClaim = claim("JWT_CHANNELS_CLAIM");
  const adminClaim = claim("JWT_ADMIN_CLAIM");
  if (keySource === undefined) return undefined;
  const settings: JwtSettings = {
    keySource,
    issuer,
    audiences,
    algorithms,
    clockToleranceSeconds,
    uidClaim,
    channelsClaim,
    adminClaim,
  };
  return Object.freeze(settings);
}

/** `"none"` when no key source is configured; `undefined` when one is but it is wrong. */
function readKeySource(env: Env, problems: string[]): JwtKeySource | "none" | undefined {
  const jwksUrl = env.JWT_JWKS_URL ?? "";
  const publicKey = env.JWT_PUBLIC_KEY ?? "";
  if (jwksUrl === "" && publicKey === "") return "none";
  if (jwksUrl !== "" && publicKey !== "") {
    problems.push("set JWT_JWKS_URL or JWT_PUBLIC_KEY, not both");
    return undefined;
  }
  if (jwksUrl !== "") {
    const url = URL.canParse(jwksUrl) ? new URL(jwksUrl) : undefined;
    if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
      problems.push("JWT_JWKS_URL must be an https URL");
      return undefined;
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      // Keys fetched in clear text could be swapped by anyone on the path.
      problems.push("JWT_JWKS_URL must use https (http only for localhost)");
      return undefined;
    }
    return { kind: "jwks", url };
  }
  // .env files and container settings often carry a PEM on one line with literal \n.
  const pem = publicKey.replaceAll("\\n", "\n");
  if (/PRIVATE KEY/.test(pem)) {
    problems.push("JWT_PUBLIC_KEY must be a public key in PEM, not a private key");
    return undefined;
  }
  try {
    const key = createPublicKey(pem);
    if (!["rsa", "rsa-pss", "ec", "ed25519"].includes(key.asymmetricKeyType ?? "")) {
      problems.push("JWT_PUBLIC_KEY must be an RSA, EC or Ed25519 public key");
      return undefined;
    }
    return { kind: "public-key", key };
  } catch {
    problems.push("JWT_PUBLIC_KEY must be a public key in PEM (-----BEGIN PUBLIC KEY-----)");
    return undefined;
  }
}

function readAlgorithms(raw: string | undefined, problems: string[]): string[] {
  if (!raw) return [...ASYMMETRIC_ALGORITHMS];
  const algorithms = raw
    .split(",")
    .map((algorithm) => algorithm.trim())
    .filter((algorithm) => algorithm !== "");
  const allowed: readonly string[] = ASYMMETRIC_ALGORITHMS;
  const refused = algorithms.filter((algorithm) => !allowed.includes(algorithm));
  if (refused.length > 0 || algorithms.length === 0) {
    problems.push(
      `JWT_ALGORITHMS may only list ${ASYMMETRIC_ALGORITHMS.join(", ")} (never none or HS*)`,
    );
  }
  return algorithms.filter((algorithm) => allowed.includes(algorithm));
}

function readClockTolerance(raw: string | undefined, problems: string[]): number {
  if (raw === undefined || raw === "") return DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value <= MAX_CLOCK_TOLERANCE_SECONDS)) {
    problems.push(
      `JWT_CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`,
    );
    return DEFAULT_CLOCK_TOLERANCE_SECONDS;
  }
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
