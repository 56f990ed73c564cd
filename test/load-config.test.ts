import { describe, expect, it } from "vitest";
import { DEMO_CREDENTIALS, loadConfig } from "../src/load-config.js";
import { defaultLimits } from "../src/server/create-server.js";
import { problemsOf } from "./support/config-problems.js";
import { SAMPLE } from "./support/decode-token.js";

const APP_ID = "0123456789abcdef0123456789ABCDEF";
const CERT = "fedcba9876543210fedcba9876543210";

describe("loadConfig()", () => {
  it("reads credentials, port and host, and freezes the result", () => {
    const config = loadConfig({ APP_ID, APP_CERTIFICATE: CERT, PORT: "9090", HOST: "127.0.0.1" });
    expect(config.credentials).toEqual({ appId: APP_ID, appCertificate: CERT });
    expect(config.usingDemoCredentials).toBe(false);
    expect(config.port).toBe(9090);
    expect(config.host).toBe("127.0.0.1");
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("defaults to 0.0.0.0:8080, no cross-origin access and the documented limits", () => {
    const config = loadConfig({ APP_ID, APP_CERTIFICATE: CERT });
    expect(config).toMatchObject({ host: "0.0.0.0", port: 8080, corsAllowOrigin: [] });
    expect(config.limits).toMatchObject({
      maxBodyBytes: 20_480,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxStreamingCalls: 1_000,
      streamingCallMaxAgeMs: 300_000,
    });
    expect(config.limits).toEqual(defaultLimits);
    expect(config.shutdownTimeoutMs).toBe(8_000);
  });

  it("prefers SERVER_PORT over PORT, as the Go service did", () => {
    expect(loadConfig({ SERVER_PORT: "7000", PORT: "9000" }).port).toBe(7000);
    expect(loadConfig({ PORT: "9000" }).port).toBe(9000);
  });

  it("uses the public demo credentials outside production when none are set", () => {
    const config = loadConfig({});
    expect(config.usingDemoCredentials).toBe(true);
    expect(config.credentials).toEqual(DEMO_CREDENTIALS);
    expect(DEMO_CREDENTIALS).toEqual(SAMPLE);
  });

  it("requires credentials in production", () => {
    expect(problemsOf({ NODE_ENV: "production" })).toEqual([
      "APP_ID and APP_CERTIFICATE are required when NODE_ENV is production",
    ]);
  });

  it("names a half-set pair", () => {
    expect(problemsOf({ APP_ID })).toEqual([
      "APP_CERTIFICATE is not set but the other credential is",
    ]);
    expect(problemsOf({ APP_CERTIFICATE: CERT })).toEqual([
      "APP_ID is not set but the other credential is",
    ]);
  });

  it("rejects a malformed certificate without printing it", () => {
    const secret = `${CERT}\n`;
    const problems = problemsOf({ APP_ID, APP_CERTIFICATE: secret });
    expect(problems).toEqual([
      "APP_CERTIFICATE must be exactly 32 hexadecimal characters (got 33 characters)",
    ]);
    expect(problems.join("\n")).not.toContain(CERT);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf({
      APP_ID: "short",
      APP_CERTIFICATE: "g".repeat(32),
      PORT: "70000",
      MAX_BODY_BYTES: "lots",
    });
    expect(problems).toHaveLength(4);
    expect(problems).toContain("PORT must be a whole number from 0 to 65535");
    expect(problems.some((problem) => problem.startsWith("MAX_BODY_BYTES"))).toBe(true);
  });

  it("parses CORS_ALLOW_ORIGIN as * or a list, ignoring spaces around entries", () => {
    expect(loadConfig({ CORS_ALLOW_ORIGIN: "*" }).corsAllowOrigin).toBe("*");
    expect(
      loadConfig({ CORS_ALLOW_ORIGIN: " https://a.example , https://b.example:8443 ," })
        .corsAllowOrigin,
    ).toEqual(["https://a.example", "https://b.example:8443"]);
  });

  it("refuses CORS_ALLOW_ORIGIN entries that no browser's Origin could match, saying how to write them", () => {
    expect(
      problemsOf({
        CORS_ALLOW_ORIGIN:
          "https://app.example.com/, app.example.com, https://App.example.com, https://b.example:443, http://localhost:3000",
      }),
    ).toEqual([
      'CORS_ALLOW_ORIGIN entry "https://app.example.com/" must be an origin (scheme://host[:port]) with nothing after it, not "/". Write https://app.example.com',
      'CORS_ALLOW_ORIGIN entry "app.example.com" has no scheme. Write https://app.example.com (or http:// for a plain-HTTP page)',
      'CORS_ALLOW_ORIGIN entry "https://App.example.com" is not written as browsers send it. Write https://app.example.com',
      'CORS_ALLOW_ORIGIN entry "https://b.example:443" is not written as browsers send it. Write https://b.example',
    ]);
    expect(problemsOf({ CORS_ALLOW_ORIGIN: "https://app.example.com/login" })).toEqual([
      'CORS_ALLOW_ORIGIN entry "https://app.example.com/login" must be an origin (scheme://host[:port]) with nothing after it, not "/login". Write https://app.example.com',
    ]);
  });

  it("listens on loopback by default with the demo credentials, everywhere otherwise; HOST wins", () => {
    expect(loadConfig({})).toMatchObject({ host: "127.0.0.1", loopbackForDemo: true });
    expect(loadConfig({ HOST: "0.0.0.0" })).toMatchObject({
      host: "0.0.0.0",
      loopbackForDemo: false,
    });
    expect(loadConfig({ APP_ID, APP_CERTIFICATE: CERT })).toMatchObject({
      host: "0.0.0.0",
      loopbackForDemo: false,
    });
    expect(loadConfig({ APP_ID, APP_CERTIFICATE: CERT, NODE_ENV: "production" }).host).toBe(
      "0.0.0.0",
    );
    expect(loadConfig({ APP_ID, APP_CERTIFICATE: CERT, HOST: "::1" }).host).toBe("::1");
  });

  it("reads the limits from the environment", () => {
    const config = loadConfig({
      MAX_BODY_BYTES: "1024",
      MAX_STREAMING_CALLS: "10",
      STREAMING_CALL_MAX_AGE_MS: "60000",
      HEADERS_TIMEOUT_MS: "2000",
      REQUEST_TIMEOUT_MS: "3000",
      KEEP_ALIVE_TIMEOUT_MS: "4000",
      SHUTDOWN_TIMEOUT_MS: "500",
    });
    expect(config.limits).toMatchObject({
      maxBodyBytes: 1024,
      maxStreamingCalls: 10,
      streamingCallMaxAgeMs: 60_000,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 3000,
      keepAliveTimeoutMs: 4000,
    });
    expect(config.shutdownTimeoutMs).toBe(500);
  });

  it("reads WORKERS as a count or auto, and refuses anything else", () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: "2" }).workers).toBe(2);
    expect(loadConfig({ WORKERS: "auto" }).workers).toBeGreaterThanOrEqual(1);
    expect(problemsOf({ WORKERS: "0" })).toEqual(["WORKERS must be a whole number from 1 to 64"]);
    expect(problemsOf({ WORKERS: "many" })).toEqual([
      "WORKERS must be a whole number from 1 to 64",
    ]);
  });

  it("defaults the connection and HTTP/2 limits to the server's documented ones", () => {
    const { limits } = loadConfig({});
    expect(limits).toEqual(defaultLimits);
    expect(limits).toMatchObject({
      maxHeaderBytes: 16_384,
      maxConnections: 10_000,
      http2MaxConcurrentStreams: 100,
      http2MaxSessionMemoryMb: 10,
      http2MaxSettings: 32,
      http2MaxOutstandingPings: 10,
      http2MaxInvalidFrames: 1_000,
      http2MaxRejectedStreams: 100,
      http2IdleTimeoutMs: 60_000,
    });
  });

  it("reads the connection and HTTP/2 limits from the environment", () => {
    const { limits } = loadConfig({
      MAX_HEADER_BYTES: "8192",
      MAX_CONNECTIONS: "500",
      HTTP2_MAX_CONCURRENT_STREAMS: "50",
      HTTP2_MAX_SESSION_MEMORY_MB: "4",
      HTTP2_MAX_SETTINGS: "16",
      HTTP2_MAX_OUTSTANDING_PINGS: "5",
      HTTP2_MAX_INVALID_FRAMES: "0",
      HTTP2_MAX_REJECTED_STREAMS: "20",
      HTTP2_IDLE_TIMEOUT_MS: "30000",
    });
    expect(limits).toMatchObject({
      maxHeaderBytes: 8192,
      maxConnections: 500,
      http2MaxConcurrentStreams: 50,
      http2MaxSessionMemoryMb: 4,
      http2MaxSettings: 16,
      http2MaxOutstandingPings: 5,
      http2MaxInvalidFrames: 0,
      http2MaxRejectedStreams: 20,
      http2IdleTimeoutMs: 30_000,
    });
  });

  it("names every connection or HTTP/2 limit that is out of range", () => {
    expect(
      problemsOf({
        MAX_HEADER_BYTES: "100",
        MAX_CONNECTIONS: "0",
        HTTP2_MAX_CONCURRENT_STREAMS: "-1",
        HTTP2_MAX_SESSION_MEMORY_MB: "0",
        HTTP2_MAX_SETTINGS: "x",
        HTTP2_MAX_OUTSTANDING_PINGS: "0",
        HTTP2_MAX_INVALID_FRAMES: "1.5",
        HTTP2_MAX_REJECTED_STREAMS: "100001",
        HTTP2_IDLE_TIMEOUT_MS: "50",
      }),
    ).toEqual([
      "MAX_HEADER_BYTES must be a whole number from 1024 to 1048576",
      "MAX_CONNECTIONS must be a whole number from 1 to 1000000",
      "HTTP2_MAX_CONCURRENT_STREAMS must be a whole number from 1 to 10000",
      "HTTP2_MAX_SESSION_MEMORY_MB must be a whole number from 1 to 1024",
      "HTTP2_MAX_SETTINGS must be a whole number from 1 to 1000",
      "HTTP2_MAX_OUTSTANDING_PINGS must be a whole number from 1 to 1000",
      "HTTP2_MAX_INVALID_FRAMES must be a whole number from 0 to 100000",
      "HTTP2_MAX_REJECTED_STREAMS must be a whole number from 0 to 100000",
      "HTTP2_IDLE_TIMEOUT_MS must be a whole number from 100 to 3600000",
    ]);
  });
});
