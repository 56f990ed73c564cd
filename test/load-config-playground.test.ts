import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/load-config.js";

const CREDENTIALS = {
  APP_ID: "0123456789abcdef0123456789ABCDEF",
  APP_CERTIFICATE: "fedcba9876543210fedcba9876543210",
};

describe("loadConfig() PLAYGROUND", () => {
  it("serves the playground by default outside production", () => {
    expect(loadConfig({}).playground).toBe(true);
    expect(loadConfig({ NODE_ENV: "development" }).playground).toBe(true);
  });

  it("turns it off by default in production", () => {
    expect(loadConfig({ ...CREDENTIALS, NODE_ENV: "production" }).playground).toBe(false);
  });

  it("follows PLAYGROUND=on or off whatever NODE_ENV says", () => {
    expect(
      loadConfig({ ...CREDENTIALS, NODE_ENV: "production", PLAYGROUND: "on" }).playground,
    ).toBe(true);
    expect(loadConfig({ PLAYGROUND: "off" }).playground).toBe(false);
  });

  it("refuses any other value, naming the variable", () => {
    try {
      loadConfig({ PLAYGROUND: "yes" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual(["PLAYGROUND must be on or off"]);
    }
  });

  it("reads PLAYGROUND_SERVICE_ORIGINS: origins only, each problem named with its fix", () => {
    expect(loadConfig({}).playgroundServiceOrigins).toEqual([]);
    expect(
      loadConfig({
        PLAYGROUND_SERVICE_ORIGINS: "https://tokens.example.com, http://localhost:9000",
      }).playgroundServiceOrigins,
    ).toEqual(["https://tokens.example.com", "http://localhost:9000"]);
    try {
      loadConfig({
        PLAYGROUND_SERVICE_ORIGINS: "*, https://tokens.example.com/, tokens.example.com",
      });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'PLAYGROUND_SERVICE_ORIGINS entry "*" is not an origin (this setting has no wildcard)',
        'PLAYGROUND_SERVICE_ORIGINS entry "https://tokens.example.com/" must be an origin (scheme://host[:port]) with nothing after it, not "/". Write https://tokens.example.com',
        'PLAYGROUND_SERVICE_ORIGINS entry "tokens.example.com" has no scheme. Write https://tokens.example.com (or http:// for a plain-HTTP page)',
      ]);
    }
  });
});
