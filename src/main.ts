import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./load-config.js";
import { createServer } from "./server/create-server.js";
import { loadPlaygroundAssets, playgroundRoute } from "./server/playground-route.js";
import { createTokenService } from "./service.js";

/** One JSON object per line on stdout (or stderr for errors). */
function log(level: "info" | "warn" | "error", msg: string, fields: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields });
  (level === "error" ? process.stderr : process.stdout).write(`${line}\n`);
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
    onInternalError: (error) =>
      log("error", "internal error", {
        error: error instanceof Error ? error.stack : String(error),
      }),
  });
  const playground = config.playground ? loadPlaygroundAssets() : undefined;
  if (config.playground && playground === undefined) {
    log("warn", "the token playground is not built: run npm run build to serve it at /");
  }
  const server = createServer({
    service,
    cors: { allowOrigin: config.corsAllowOrigin },
    limits: config.limits,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    httpRoutes: playground ? [playgroundRoute(playground)] : [],
  });
  const address = await server.listen(config.port, config.host);
  log("info", `listening on ${address.address}:${address.port}`, {
    port: address.port,
    appId: config.credentials.appId,
  });
  if (playground) log("info", `token playground at http://localhost:${address.port}/`);

  const shutdown = async (signal: NodeJS.Signals) => {
    log("info", `${signal} received: draining`);
    await server.close();
    log("info", "stopped");
    process.exit(0);
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  log("error", "failed to start", {
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
