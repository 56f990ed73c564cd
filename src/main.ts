import cluster from "node:cluster";
import { existsSync } from "node:fs";
import type { Logger } from "pino";
import { countNoun } from "./count-noun.js";
import { createApp } from "./create-app.js";
import { type Config, ConfigError, loadConfig } from "./load-config.js";
import { createLogger, logDestination } from "./observability/logger.js";
import { loadPlaygroundAssets, playgroundRoute } from "./server/http/playground-route.js";
import { runWorkers } from "./server/transport/run-workers.js";

async function main(): Promise<void> {
  // As the Go service did: a .env file in the working directory; real env variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");

  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error);
    process.exit(1);
  }
  const output = await logDestination(config.logFormat);
  const logger = createLogger({
    level: config.logLevel,
    destination: output.destination,
    secrets: [config.credentials.appCertificate, config.credentials.secondaryAppCertificate ?? ""],
  });
  // A bug that escapes every handler still ends the process, as Node would, but through the log
  // (one line, secrets redacted) rather than a raw stack on stderr.
  for (const event of ["uncaughtException", "unhandledRejection"] as const) {
    process.on(event, (error: unknown) => {
      logger.fatal({ err: error }, event);
      process.exit(1);
    });
  }
  if (output.kind !== config.logFormat) {
    logger.warn("LOG_FORMAT is pretty but pino-pretty is not installed: logging JSON");
  }
  if (config.workers > 1 && cluster.isPrimary) {
    await runWorkers({ count: config.workers, logger });
    logger.info("stopped");
    process.exit(0);
  }
  if (config.usingDemoCredentials) {
    logger.warn(
      "APP_ID and APP_CERTIFICATE are not set: signing with PUBLIC DEMO credentials. Agora will reject these tokens. Set both variables (NODE_ENV=production requires them).",
    );
  }
  if (config.loopbackForDemo) {
    logger.warn(
      `demo credentials: listening on loopback (${config.host}) only, so other machines cannot mint tokens here. Set HOST=0.0.0.0 to serve them.`,
    );
  }
  logCorsSetting(logger, config.corsAllowOrigin);

  const playground = config.playground ? loadPlaygroundAssets() : undefined;
  if (config.playground && playground === undefined) {
    logger.warn("the token playground is not built: run npm run build to serve it at /");
  }
  const app = createApp({
    config,
    logger,
    httpRoutes: playground
      ? [playgroundRoute(playground, { serviceOrigins: config.playgroundServiceOrigins })]
      : [],
  });
  const { address, metrics } = await app.listen(config.port, config.host);
  logger.info(
    { port: address.port, appId: config.credentials.appId },
    `listening on ${address.address}:${address.port}`,
  );
  if (metrics) {
    logger.info({ metricsPort: metrics.port }, `serving /metrics on port ${metrics.port}`);
  }
  if (playground) logger.info(`token playground at http://localhost:${address.port}/`);

  // A worker of WORKERS=n may get a signal twice (from its primary and from the terminal's
  // process group): the shutdown runs once.
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received`);
    await app.shutDown();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

/**
 * A person at a terminal reads one problem a line on stderr; a log collector (stderr is not a
 * TTY) gets one JSON line with every problem.
 */
function reportConfigError(error: ConfigError): void {
  if (process.stderr.isTTY) {
    process.stderr.write(
      `${error.message}\nThe README's Configuration table lists every variable and its rules.\n`,
    );
  } else {
    createLogger().error({ problems: error.problems }, "invalid configuration");
  }
}

/** Which web pages may call this service, as the start-up log says it. */
function logCorsSetting(logger: Logger, allowOrigin: Config["corsAllowOrigin"]): void {
  if (allowOrigin === "*") {
    logger.warn(
      { corsAllowOrigin: "*" },
      "CORS_ALLOW_ORIGIN is *: any web page may request tokens from this service",
    );
  } else if (allowOrigin.length === 0) {
    logger.info(
      { corsAllowOrigin: [] },
      "CORS: no web page on another origin may call this service (CORS_ALLOW_ORIGIN is unset)",
    );
  } else {
    logger.info(
      { corsAllowOrigin: allowOrigin },
      `CORS: web pages on ${countNoun(allowOrigin.length, "origin")} may call this service`,
    );
  }
}

main().catch((error: unknown) => {
  createLogger().error(
    { error: error instanceof Error ? error.message : String(error) },
    "failed to start",
  );
  process.exit(1);
});
