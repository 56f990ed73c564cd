import { type DestinationStream, type Logger, pino } from "pino";
import { createRedactor } from "../redact-secrets.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one object per line, for machines. `pretty`: coloured lines for a developer's terminal. */
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Fields censored whoever logs them: a second line of defence, since no log call of this service
 * passes a secret on purpose. Top-level paths only: pino's wildcard paths cost about a tenth of
 * a token request (measured with --cpu-prof under npm run bench); the certificate itself is
 * also redacted from every line by value.
 */
const REDACTED_PATHS = [
  "token",
  "appCertificate",
  "authorization",
  "apiKey",
  "jwt",
  "password",
  'headers["x-api-key"]',
  "headers.authorization",
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout, written synchronously so that nothing is lost on exit, by default. */
  destination?: DestinationStream;
  /** Values replaced by `[redacted]` wherever they appear in a line (the App Certificate). */
  secrets?: readonly string[];
}

/** A pino logger writing JSON lines with an ISO time and the level by name (`"level":"info"`). */
export function createLogger({
  level = "info",
  destination,
  secrets = [],
}: LoggerOptions = {}): Logger {
  const output = destination ?? pino.destination({ dest: 1, sync: true });
  const redact = createRedactor(secrets);
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    secrets.length === 0 ? output : { write: (line: string) => output.write(redact(line)) },
  );
}

export type LogDestination =
  | { kind: "json"; destination: DestinationStream }
  | { kind: "pretty"; destination: DestinationStream };

/**
 * stdout in the given format. `pretty` needs pino-pretty, a devDependency that a production
 * install leaves out: without it the lines stay JSON (`kind` says which one you got).
 */
export async function logDestination(format: LogFormat): Promise<LogDestination> {
  const json = {
    kind: "json",
    destination: batchedLines(pino.destination({ dest: 1, sync: true })),
  } as const;
  if (format === "json") return json;
  try {
    const { default: pretty } = await import("pino-pretty");
    return {
      kind: "pretty",
      destination: pretty({ sync: true, singleLine: true, ignore: "pid,hostname" }),
    };
  } catch {
    return json;
  }
}

/** Most bytes written at once: a pipe's atomic write, so that workers' lines never interleave. */
const BATCH_BYTES = 4096;

/**
 * The lines of one event-loop turn written to `destination` together, at the end of the turn
 * (or on exit), in writes of at most 4 KiB of whole lines, instead of one `write(2)` per line:
 * under load that system call was about a sixteenth of a request's CPU time (`--cpu-prof` under
 * `npm run bench`). A line is at most one turn late; only a kill -9 can lose it.
 */
export function batchedLines(destination: DestinationStream): DestinationStream {
  let pending = "";
  let pendingBytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === "") return;
    const lines = pending;
    pending = "";
    pendingBytes = 0;
    destination.write(lines);
  };
  process.on("exit", flush);
  return {
    write(line: string) {
      const bytes = Buffer.byteLength(line);
      if (pendingBytes + bytes > BATCH_BYTES) flush();
      pending += line;
      pendingBytes += bytes;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
