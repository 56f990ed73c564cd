import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./load-config.js";
import { redactSecrets } from "./redact-secrets.js";
import { createServer } from "./server/create-server.js";
import { createTokenService } from "./service.js";

/** Values that must never reach the log, whatever an error message quotes. */
const secrets: string[] = [];

/** One JSON object per line on stdout (or stderr for errors), with every secret redacted. */
function log(level: "info" | "warn" | "error", msg: string, fields: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields });
  (level === "error" ? process.stderr : process.stdout).write(`${redactSecrets(line, secrets)}\n`);
}

/** Logs an unexpected error (a bug, a throw from agora-token) with its stack. */
function logInternalError(error: unknown): void {
  log("error", "internal error", { error: error instanceof Error ? error.stack : String(error) });
}

async function main(): Promise<void> {
  // As the Go service did: a .env file in the working directory; real env variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", error.message, { problems: error.problems });
    process.exit(1);
  }
  secrets.push(config.credentials.appCertificate);
  if (config.usingDemoCredentials) {
    log(
      "warn",
      "APP_ID and APP_CERTIFICATE are not set: signing with PUBLIC DEMO credentials. Agora will reject these tokens. Set both variables (NODE_ENV=production requires them).",
    );
  }
  if (config.corsAllowOrigin === "*") {
    log("warn", "CORS_ALLOW_ORIGIN is *: any web page may request tokens from this service");
  }

  const service = createTokenService({
    credentials: config.credentials,
    onInternalError: logInternalError,
  });
  const server = createServer({
    service,
    cors: { allowOrigin: config.corsAllowOrigin },
    limits: config.limits,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    onInternalError: logInternalError,
  });
  const address = await server.listen(config.port, config.host);
  log("info", `listening on ${address.address}:${address.port}`, {
    port: address.port,
    appId: config.credentials.appId,
  });

  const shutdown = async (signal: NodeJS.Signals) => {
    log("info", `${signal} received: draining`);
    await server.close();
    log("info", "stopped");
    process.exit(0);
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

// A bug that escapes every handler still ends the process, as Node would, but through the log
// (one JSON line, secrets redacted) rather than a raw stack on stderr.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => {
    log("error", event, { error: error instanceof Error ? error.stack : String(error) });
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  log("error", "failed to start", {
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
