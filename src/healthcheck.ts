// `node dist/src/healthcheck.js`: the container image's HEALTHCHECK. Like main.ts, an edge that
// reads process.env: it finds the address and port with the service's own loadConfig, so it asks
// wherever the service listens, whatever HOST, SERVER_PORT, PORT or a .env file say.
import { existsSync } from "node:fs";
import { isIPv6 } from "node:net";
import { type Config, ConfigError, loadConfig } from "./load-config.js";

/** Each attempt's limit, below the Dockerfile's `--timeout=3s`. */
const ATTEMPT_TIMEOUT_MS = 2_000;

/**
 * The `/healthz` URLs that reach a service listening on `host`:`port`, to try in order: a
 * wildcard address is reached over loopback (`::` on both families), any other host as itself.
 * `undefined` when the port is 0, which the service picks at random and nothing else can know.
 */
function healthzUrls({ host, port }: Pick<Config, "host" | "port">): string[] | undefined {
  if (port === 0) return undefined;
  const hosts = host === "0.0.0.0" ? ["127.0.0.1"] : host === "::" ? ["::1", "127.0.0.1"] : [host];
  return hosts.map((name) => `http://${isIPv6(name) ? `[${name}]` : name}:${port}/healthz`);
}

async function check(): Promise<number> {
  // As the service does: a .env file in the working directory; real env variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The service refuses to start with this configuration, so it cannot be healthy.
    process.stderr.write(`unhealthy: ${error.message}\n`);
    return 1;
  }
  const urls = healthzUrls(config);
  if (urls === undefined) {
    process.stderr.write("unhealthy: the port is 0 (random), so there is no port to check\n");
    return 1;
  }
  const failures: string[] = [];
  for (const url of urls) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
      await response.body?.cancel();
      if (response.ok) return 0;
      failures.push(`${url} answered ${response.status}`);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      failures.push(`${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  process.stderr.write(`unhealthy: ${failures.join("; ")}\n`);
  return 1;
}

process.exitCode = await check();
