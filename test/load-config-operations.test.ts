import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/load-config.js";
import { problemsOf } from "./support/config-problems.js";

describe("loadConfig() operational settings", () => {
  it("defaults to info-level JSON logs, no shutdown delay and /metrics on the service port", () => {
    expect(loadConfig({})).toMatchObject({
      logLevel: "info",
      logFormat: "json",
      shutdownDelayMs: 0,
      metricsPort: undefined,
    });
  });

  it("logs human-readable lines by default only in development", () => {
    expect(loadConfig({ NODE_ENV: "development" }).logFormat).toBe("pretty");
    expect(loadConfig({ NODE_ENV: "development", LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
  });

  it("reads LOG_LEVEL, SHUTDOWN_DELAY_MS and METRICS_PORT", () => {
    expect(
      loadConfig({ LOG_LEVEL: "debug", SHUTDOWN_DELAY_MS: "5000", METRICS_PORT: "9464" }),
    ).toMatchObject({ logLevel: "debug", shutdownDelayMs: 5000, metricsPort: 9464 });
  });

  it("names every wrong operational setting at once", () => {
    expect(
      problemsOf({
        LOG_LEVEL: "verbose",
        LOG_FORMAT: "xml",
        SHUTDOWN_DELAY_MS: "-1",
        METRICS_PORT: "70000",
      }),
    ).toEqual([
      "SHUTDOWN_DELAY_MS must be a whole number from 0 to 600000",
      "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent",
      "LOG_FORMAT must be one of json, pretty",
      "METRICS_PORT must be a whole number from 0 to 65535",
    ]);
  });

  it("refuses a METRICS_PORT equal to the service port", () => {
    expect(problemsOf({ PORT: "8080", METRICS_PORT: "8080" })).toEqual([
      "METRICS_PORT must differ from PORT",
    ]);
  });
});
