import { parseArgs } from "node:util";

/** A command line that cannot be run; exit code 2 with this message. */
export class UsageError extends Error {}

type Remote = {
  json: boolean;
  url: string | undefined;
  protocol: "connect" | "grpc" | "grpc-web";
  apiKey: string | undefined;
  jwt: string | undefined;
};

export type CliArgs =
  | { command: "help" }
  | { command: "serve" }
  | ({
      command: "mint";
      kind: "rtc" | "rtm" | "chat";
      channel: string | undefined;
      uid: string | undefined;
      role: "publisher" | "subscriber" | undefined;
      expireSeconds: number;
    } & Remote)
  | ({ command: "inspect"; token: string } & Remote);

export const usage = `Usage: agora-token-service <command> [options]

Commands
  mint rtc   --channel NAME --uid UID --role publisher|subscriber [--expire SECONDS]
  mint rtm   --uid USER [--channel STREAM_CHANNEL|*] [--expire SECONDS]
  mint chat  [--uid USER] [--expire SECONDS]      without --uid an app token
  inspect    TOKEN | -                             - reads the token from stdin
  serve      start the service as npm start does (configured by the environment)

Options for mint and inspect
  --url URL              call a running service instead of signing here
  --protocol connect|grpc|grpc-web    with --url (default connect)
  --api-key KEY, --jwt JWT            with --url (or AGORA_TOKEN_SERVICE_API_KEY and
                                      AGORA_TOKEN_SERVICE_JWT, which ps cannot show)
  --json                 print the response as JSON for scripts
  -h, --help             show this help

Without --url, tokens are signed and checked with APP_ID and APP_CERTIFICATE from the
environment or a .env file (unset: the public demo credentials). --expire defaults to 3600
and is at most 86400. Exit codes: 0 done, 1 refused or failed, 2 wrong command line.
`;

const options = {
  channel: { type: "string" },
  uid: { type: "string" },
  role: { type: "string" },
  expire: { type: "string" },
  url: { type: "string" },
  protocol: { type: "string" },
  "api-key": { type: "string" },
  jwt: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];

/** Parses the command line strictly: unknown options and misplaced ones are errors. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") return { command: "help" };
  switch (command) {
    case "serve":
      allowOnly(values, [], "serve");
      if (rest.length > 0) throw new UsageError("serve takes no arguments");
      return { command: "serve" };
    case "mint": {
      const [kind, ...extra] = rest;
      if (kind !== "rtc" && kind !== "rtm" && kind !== "chat") {
        throw new UsageError("mint needs a token kind: rtc, rtm or chat");
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const allowed: (keyof Values)[] =
        kind === "rtc"
          ? ["channel", "uid", "role", "expire"]
          : kind === "rtm"
            ? ["channel", "uid", "expire"]
            : ["uid", "expire"];
      allowOnly(values, [...allowed, ...remoteOptions], `mint ${kind}`);
      const { role } = values;
      if (role !== undefined && role !== "publisher" && role !== "subscriber") {
        throw new UsageError(`--role must be publisher or subscriber (got "${role}")`);
      }
      return {
        command: "mint",
        kind,
        channel: values.channel,
        uid: values.uid,
        role,
        expireSeconds: expireOf(values.expire),
        ...remoteOf(values),
      };
    }
    case "inspect": {
      allowOnly(values, remoteOptions, "inspect");
      const [token, ...extra] = rest;
      if (token === undefined) throw new UsageError('inspect needs a token (or "-" to read stdin)');
      if (extra.length > 0) throw new UsageError("inspect takes one token");
      return { command: "inspect", token, ...remoteOf(values) };
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

const remoteOptions: (keyof Values)[] = ["url", "protocol", "api-key", "jwt", "json"];

function allowOnly(values: Values, allowed: readonly (keyof Values)[], command: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (name === "help" || value === undefined || value === false) continue;
    if (!allowed.includes(name as keyof Values)) {
      throw new UsageError(`--${name} does not apply to ${command}`);
    }
  }
}

function remoteOf(values: Values): Remote {
  const { protocol = "connect", url } = values;
  if (protocol !== "connect" && protocol !== "grpc" && protocol !== "grpc-web") {
    throw new UsageError(`--protocol must be connect, grpc or grpc-web (got "${protocol}")`);
  }
  for (const name of ["protocol", "api-key", "jwt"] as const) {
    if (values[name] !== undefined && url === undefined) {
      throw new UsageError(`--${name} needs --url`);
    }
  }
  return { json: values.json, url, protocol, apiKey: values["api-key"], jwt: values.jwt };
}

/** `--expire` in whole seconds; absent means the service default. The service checks the range. */
function expireOf(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^[0-9]{1,10}$/.test(raw)) {
    throw new UsageError(`--expire must be a whole number of seconds (got "${raw}")`);
  }
  const seconds = Number(raw);
  if (seconds > 0xffff_ffff) throw new UsageError("--expire must be at most 86400 seconds");
  return seconds;
}
