import { type App, type AppOptions, createApp } from "../../src/create-app.js";
import { loadConfig } from "../../src/load-config.js";
import { SAMPLE } from "./decode-token.js";
import { memoryLogger } from "./memory-logger.js";

export interface AppServer {
  app: App;
  port: number;
  baseUrl: string;
  /** The separate metrics server, when METRICS_PORT was given. */
  metricsUrl: string | undefined;
  /** Every log line written so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** Everything logged so far, as written. */
  logText(): string;
  /** Stops at once (no shutdown delay): for clean-up. */
  close(): Promise<void>;
}

/**
 * `createApp` as `main.ts` runs it (config from `env` through `loadConfig`, the sample
 * credentials), on a free loopback port, logging at debug level into memory.
 */
export async function startApp(
  env: Record<string, string> = {},
  options: Omit<Partial<AppOptions>, "config" | "logger"> = {},
): Promise<AppServer> {
  const { logger, logLines, logText } = memoryLogger();
  const config = loadConfig({
    APP_ID: SAMPLE.appId,
    APP_CERTIFICATE: SAMPLE.appCertificate,
    ...env,
  });
  const app = createApp({ config, logger, ...options });
  const { address, metrics } = await app.listen(0, "127.0.0.1");
  return {
    app,
    port: address.port,
    baseUrl: `http://127.0.0.1:${address.port}`,
    metricsUrl: metrics && `http://127.0.0.1:${metrics.port}`,
    logLines,
    logText,
    close: () => app.close(),
  };
}
