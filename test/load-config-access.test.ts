import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findApiKey } from "../src/auth/api-keys.js";
import { loadConfig } from "../src/load-config.js";
import { problemsOf } from "./support/config-problems.js";

const KEY_A = "a-very-long-secret-key-1";
const KEY_B = "b-very-long-secret-key-2";
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const PUBLIC_PEM = publicKey.export({ type: "spki", format: "pem" }).toString();
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const JWT = { JWT_ISSUER: "https://id.example.com/", JWT_AUDIENCE: "agora-tokens" };

describe("loadConfig() access settings", () => {
  it("is open mode, without a rate limit, when nothing is set", () => {
    const config = loadConfig({});
    expect(config.auth).toEqual({ apiKeys: [], jwt: undefined });
    expect(config.rateLimit).toBeUndefined();
    expect(config.trustProxy).toBe(false);
  });

  it("reads API keys from API_KEYS and API_KEYS_FILE, keeping only digests", () => {
    const dir = mkdtempSync(join(tmpdir(), "api-keys-"));
    const file = join(dir, "keys");
    writeFileSync(file, `# backend jobs\njobs:${KEY_B}\n`);
    const config = loadConfig({ API_KEYS: `web:${KEY_A}`, API_KEYS_FILE: file });
    expect(config.auth.apiKeys.map((key) => key.name)).toEqual(["web", "jobs"]);
    expect(findApiKey(config.auth.apiKeys, KEY_B)?.name).toBe("jobs");
    expect(JSON.stringify(config)).not.toContain(KEY_A);
  });

  it("names every API key problem without printing a key", () => {
    const problems = problemsOf({
      API_KEYS: `web:${KEY_A},web:${KEY_B},copy:${KEY_A},short:abc`,
      API_KEYS_FILE: "/nonexistent/keys",
    });
    expect(problems).toEqual([
      "API_KEYS entry 4 (short) needs a key of 16 to 512 printable characters without spaces (got 3 characters)",
      "API_KEYS_FILE could not be read (ENOENT)",
      "API key name web is used twice",
      "API key copy repeats the key of another entry",
    ]);
    expect(problems.join()).not.toContain(KEY_A);
  });

  it("reads JWT settings with a JWKS URL and the documented defaults", () => {
    const config = loadConfig({
      JWT_JWKS_URL: "https://id.example.com/.well-known/jwks.json",
      JWT_ISSUER: "https://id.example.com/",
      JWT_AUDIENCE: "agora-tokens, other",
    });
    expect(config.auth.jwt).toEqual({
      keySource: { kind: "jwks", url: new URL("https://id.example.com/.well-known/jwks.json") },
      issuer: "https://id.example.com/",
      audiences: ["agora-tokens", "other"],
      algorithms: [
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
      ],
      clockToleranceSeconds: 30,
      uidClaim: "sub",
      channelsClaim: undefined,
      adminClaim: undefined,
    });
  });

  it("reads a static public key, also written on one line with \\n, and the optional claims", () => {
    const config = loadConfig({
      ...JWT,
      JWT_PUBLIC_KEY: PUBLIC_PEM.replaceAll("\n", "\\n"),
      JWT_UID_CLAIM: "agora_uid",
      JWT_CHANNELS_CLAIM: "agora_channels",
      JWT_ADMIN_CLAIM: "agora_admin",
      JWT_ALGORITHMS: "ES256",
      JWT_CLOCK_TOLERANCE_SECONDS: "5",
    });
    const jwt = config.auth.jwt;
    expect(jwt?.keySource.kind).toBe("public-key");
    expect(jwt).toMatchObject({
      uidClaim: "agora_uid",
      channelsClaim: "agora_channels",
      adminClaim: "agora_admin",
      algorithms: ["ES256"],
      clockToleranceSeconds: 5,
    });
  });

  it("refuses none, HMAC, a private key, plain http and half-done JWT settings", () => {
    expect(
      problemsOf({ ...JWT, JWT_PUBLIC_KEY: PUBLIC_PEM, JWT_ALGORITHMS: "RS256,HS256" }),
    ).toEqual([
      "JWT_ALGORITHMS may only list RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (never none or HS*)",
    ]);
    expect(problemsOf({ ...JWT, JWT_PUBLIC_KEY: PUBLIC_PEM, JWT_ALGORITHMS: "none" })).toHaveLength(
      1,
    );
    expect(problemsOf({ ...JWT, JWT_PUBLIC_KEY: PRIVATE_PEM })).toEqual([
      "JWT_PUBLIC_KEY must be a public key in PEM, not a private key",
    ]);
    expect(problemsOf({ ...JWT, JWT_PUBLIC_KEY: "not a key" })).toEqual([
      "JWT_PUBLIC_KEY must be a public key in PEM (-----BEGIN PUBLIC KEY-----)",
    ]);
    expect(problemsOf({ ...JWT, JWT_JWKS_URL: "http://id.example.com/jwks" })).toEqual([
      "JWT_JWKS_URL must use https (http only for localhost)",
    ]);
    expect(loadConfig({ ...JWT, JWT_JWKS_URL: "http://127.0.0.1:9/jwks" }).auth.jwt).toBeDefined();
    expect(problemsOf({ JWT_JWKS_URL: "https://id.example.com/jwks" })).toEqual([
      "JWT_ISSUER is required with JWT_JWKS_URL or JWT_PUBLIC_KEY",
      "JWT_AUDIENCE is required with JWT_JWKS_URL or JWT_PUBLIC_KEY",
    ]);
    expect(
      problemsOf({
        ...JWT,
        JWT_JWKS_URL: "https://id.example.com/jwks",
        JWT_PUBLIC_KEY: PUBLIC_PEM,
      }),
    ).toEqual(["set JWT_JWKS_URL or JWT_PUBLIC_KEY, not both"]);
    expect(problemsOf({ ...JWT })).toEqual([
      "JWT_ISSUER is set but neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is",
      "JWT_AUDIENCE is set but neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is",
    ]);
    expect(
      problemsOf({ ...JWT, JWT_PUBLIC_KEY: PUBLIC_PEM, JWT_CLOCK_TOLERANCE_SECONDS: "301" }),
    ).toEqual(["JWT_CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to 300"]);
  });

  it("reads the rate limit: burst defaults to the per-minute rate, Redis fails open by default", () => {
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: "120" }).rateLimit).toEqual({
      limit: { perMinute: 120, burst: 120 },
      redisUrl: undefined,
      redisFailure: "open",
      maxCallers: 100_000,
    });
    expect(
      loadConfig({ RATE_LIMIT_PER_MINUTE: "120", RATE_LIMIT_MAX_CALLERS: "5000" }).rateLimit
        ?.maxCallers,
    ).toBe(5000);
    expect(
      loadConfig({
        RATE_LIMIT_PER_MINUTE: "60",
        RATE_LIMIT_BURST: "10",
        REDIS_URL: "redis://:secret@redis:6379/0",
        RATE_LIMIT_REDIS_FAILURE: "closed",
      }).rateLimit,
    ).toEqual({
      limit: { perMinute: 60, burst: 10 },
      redisUrl: "redis://:secret@redis:6379/0",
      redisFailure: "closed",
      maxCallers: 100_000,
    });
  });

  it("names every rate limit problem", () => {
    expect(problemsOf({ RATE_LIMIT_BURST: "5" })).toEqual([
      "RATE_LIMIT_BURST needs RATE_LIMIT_PER_MINUTE",
    ]);
    expect(
      problemsOf({
        RATE_LIMIT_PER_MINUTE: "0",
        RATE_LIMIT_BURST: "1.5",
        REDIS_URL: "localhost:6379",
        RATE_LIMIT_REDIS_FAILURE: "maybe",
        RATE_LIMIT_MAX_CALLERS: "10",
      }),
    ).toEqual([
      "RATE_LIMIT_PER_MINUTE must be a whole number from 1 to 1000000",
      "RATE_LIMIT_BURST must be a whole number from 1 to 1000000",
      "RATE_LIMIT_MAX_CALLERS must be a whole number from 1000 to 10000000",
      "REDIS_URL must start with redis:// or rediss://",
      "RATE_LIMIT_REDIS_FAILURE must be open or closed",
    ]);
  });

  it("reads TRUST_PROXY as false, true or a number of proxies", () => {
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(problemsOf({ TRUST_PROXY: "yes" })).toEqual([
      "TRUST_PROXY must be false, true or a number of proxies from 1 to 10",
    ]);
  });
});
