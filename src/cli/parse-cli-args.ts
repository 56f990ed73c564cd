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

/** Lifetimes in seconds as typed; 0 where a flag was not given (the service's default). */
export interface PrivilegeFlags {
  /** `--privilege-expire`: every RTC privilege. */
  privilegeExpire: number;
  /** `--join-channel-expire` and the publish flags; `undefined` when none of them was given. */
  each:
    | { joinChannel: number; publishAudio: number; publishVideo: number; publishDataStream: number }
    | undefined;
}

/** What `mint rtc`, `mint rtc-rtm` and `mint agent` say about RTC. */
export interface RtcFlags extends PrivilegeFlags {
  channel: string;
  uid: string;
  role: "publisher" | "subscriber" | undefined;
  expireSeconds: number;
}

export interface RtcRtmFlags extends RtcFlags {
  rtmUserId: string;
  rtmExpireSeconds: number;
}

export type MintArgs =
  | ({ kind: "rtc" } & RtcFlags)
  | { kind: "rtm"; uid: string; channel: string; expireSeconds: number }
  | { kind: "chat"; uid: string; expireSeconds: number }
  | ({ kind: "rtc-rtm" } & RtcRtmFlags)
  | ({ kind: "agent"; agent: "convoai" | "stt" } & RtcRtmFlags);

export type CliArgs =
  | { command: "help" }
  | { command: "version" }
  | { command: "serve" }
  | ({ command: "mint"; mint: MintArgs } & Remote)
  | ({ command: "inspect"; token: string } & Remote);

export const usage = `Usage: agora-token-service <command> [options]

Commands
  mint rtc      --channel NAME --uid UID --role publisher|subscriber [--expire SECONDS]
                [privilege lifetimes]
  mint rtm      --uid USER [--channel STREAM_CHANNEL|*] [--expire SECONDS]
  mint chat     [--uid USER] [--expire SECONDS]      without --uid an app token
  mint rtc-rtm  --channel NAME --uid UID --role publisher|subscriber [--rtm-user-id USER]
                [--expire SECONDS] [--rtm-expire SECONDS] [privilege lifetimes]
                one token for RTC and RTM; without --rtm-user-id the uid logs in to RTM
  mint agent    --kind convoai|stt  and the options of mint rtc-rtm
                an AI agent's token (Conversational AI or speech to text)
  inspect       TOKEN | -                             - reads the token from stdin
  serve         start the service as npm start does (configured by the environment)

Privilege lifetimes (seconds from now, at most --expire; unset = as long as the token)
  --privilege-expire SECONDS       every RTC privilege
  --join-channel-expire SECONDS    or each one on its own: join channel,
  --publish-audio-expire SECONDS   publish audio,
  --publish-video-expire SECONDS   publish video
  --publish-data-stream-expire SECONDS  and publish data stream (publishers only)

Options for mint and inspect
  --url URL              call a running service (http:// or https://) instead of signing here
  --protocol connect|grpc|grpc-web    with --url (default connect)
  --api-key KEY, --jwt JWT            with --url (or AGORA_TOKEN_SERVICE_API_KEY and
                                      AGORA_TOKEN_SERVICE_JWT, which ps cannot show)
  --json                 print the response as JSON for scripts
  -h, --help             show this help
  --version              print the version

Without --url, tokens are signed and checked with APP_ID and APP_CERTIFICATE from the
environment or a .env file (unset: the public demo credentials). --expire defaults to 3600
and is at most 86400. Exit codes: 0 done, 1 refused or failed, 2 wrong command line.
`;

const options = {
  channel: { type: "string" },
  uid: { type: "string" },
  role: { type: "string" },
  expire: { type: "string" },
  "privilege-expire": { type: "string" },
  "join-channel-expire": { type: "string" },
  "publish-audio-expire": { type: "string" },
  "publish-video-expire": { type: "string" },
  "publish-data-stream-expire": { type: "string" },
  "rtm-user-id": { type: "string" },
  "rtm-expire": { type: "string" },
  kind: { type: "string" },
  url: { type: "string" },
  protocol: { type: "string" },
  "api-key": { type: "string" },
  jwt: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
type Option = keyof Values;

const mintKinds = ["rtc", "rtm", "chat", "rtc-rtm", "agent"] as const;
const eachPrivilegeOptions: Option[] = [
  "join-channel-expire",
  "publish-audio-expire",
  "publish-video-expire",
  "publish-data-stream-expire",
];
const privilegeOptions: Option[] = ["privilege-expire", ...eachPrivilegeOptions];
const rtcOptions: Option[] = ["channel", "uid", "role", "expire", ...privilegeOptions];
const rtcRtmOptions: Option[] = [...rtcOptions, "rtm-user-id", "rtm-expire"];
const optionsOf: Record<MintArgs["kind"], Option[]> = {
  rtc: rtcOptions,
  rtm: ["channel", "uid", "expire"],
  chat: ["uid", "expire"],
  "rtc-rtm": rtcRtmOptions,
  agent: [...rtcRtmOptions, "kind"],
};

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
    throw new UsageError(parseArgsProblem(error));
  }
  const [command, ...rest] = positionals;
  if (values.help || command === "help") return { command: "help" };
  if (values.version) return { command: "version" };
  if (command === undefined) return { command: "help" };
  switch (command) {
    case "serve":
      allowOnly(values, [], "serve");
      if (rest.length > 0) throw new UsageError("serve takes no arguments");
      return { command: "serve" };
    case "mint": {
      const [kind, ...extra] = rest;
      const mintKind = mintKinds.find((candidate) => candidate === kind);
      if (mintKind === undefined) {
        throw new UsageError(
          kind === undefined
            ? "mint needs a token kind: rtc, rtm, chat, rtc-rtm or agent"
            : `mint needs a token kind: rtc, rtm, chat, rtc-rtm or agent (got "${kind}")`,
        );
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      allowOnly(values, [...optionsOf[mintKind], ...remoteOptions], `mint ${mintKind}`);
      return { command: "mint", mint: mintArgsOf(mintKind, values), ...remoteOf(values) };
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

const remoteOptions: Option[] = ["url", "protocol", "api-key", "jwt", "json"];

/** Node's parseArgs errors in the words of this command (its own quote a hint about `--`). */
function parseArgsProblem(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = String(message ?? error);
  const option = /'(-{1,2}[^ '=]+)/.exec(text)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option !== undefined) {
    return `unknown option ${option}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined) {
    const name = option.replace(/^-+/, "");
    const isFlag = Object.hasOwn(options, name) && options[name as Option].type === "boolean";
    return isFlag
      ? `${option} takes no value`
      : `${option} needs a value (as in ${option} VALUE, or ${option}=VALUE for one starting with -)`;
  }
  return text;
}

function allowOnly(values: Values, allowed: readonly Option[], command: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (name === "help" || name === "version" || value === undefined || value === false) continue;
    if (!allowed.includes(name as Option)) {
      throw new UsageError(`--${name} does not apply to ${command}`);
    }
  }
}

function mintArgsOf(kind: MintArgs["kind"], values: Values): MintArgs {
  const uid = values.uid ?? "";
  const channel = values.channel ?? "";
  const expireSeconds = secondsOf(values, "expire");
  switch (kind) {
    case "rtm":
      return { kind, uid, channel, expireSeconds };
    case "chat":
      return { kind, uid, expireSeconds };
    case "rtc":
      return { kind, ...rtcFlagsOf(values) };
    case "rtc-rtm":
      return { kind, ...rtcRtmFlagsOf(values) };
    case "agent": {
      const agent = values.kind;
      if (agent !== "convoai" && agent !== "stt") {
        throw new UsageError(
          agent === undefined
            ? "mint agent needs --kind convoai or --kind stt"
            : `--kind must be convoai or stt (got "${agent}")`,
        );
      }
      return { kind, agent, ...rtcRtmFlagsOf(values) };
    }
  }
}

function rtcFlagsOf(values: Values): RtcFlags {
  const { role } = values;
  if (role !== undefined && role !== "publisher" && role !== "subscriber") {
    throw new UsageError(`--role must be publisher or subscriber (got "${role}")`);
  }
  const eachGiven = eachPrivilegeOptions.filter((name) => values[name] !== undefined);
  if (values["privilege-expire"] !== undefined && eachGiven.length > 0) {
    throw new UsageError(
      `--privilege-expire times every privilege and cannot be combined with --${eachGiven[0]}`,
    );
  }
  return {
    channel: values.channel ?? "",
    uid: values.uid ?? "",
    role,
    expireSeconds: secondsOf(values, "expire"),
    privilegeExpire: secondsOf(values, "privilege-expire"),
    each:
      eachGiven.length === 0
        ? undefined
        : {
            joinChannel: secondsOf(values, "join-channel-expire"),
            publishAudio: secondsOf(values, "publish-audio-expire"),
            publishVideo: secondsOf(values, "publish-video-expire"),
            publishDataStream: secondsOf(values, "publish-data-stream-expire"),
          },
  };
}

function rtcRtmFlagsOf(values: Values): RtcRtmFlags {
  return {
    ...rtcFlagsOf(values),
    rtmUserId: values["rtm-user-id"] ?? "",
    rtmExpireSeconds: secondsOf(values, "rtm-expire"),
  };
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
  if (url !== undefined) checkUrl(url);
  return { json: values.json, url, protocol, apiKey: values["api-key"], jwt: values.jwt };
}

/** `--url` as typed must be an absolute http(s) URL; say what is wrong with it, and how to fix it. */
function checkUrl(url: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (scheme === undefined) {
    throw new UsageError(
      `--url must start with http:// or https:// (got "${url}"; for a service on this machine try http://${url})`,
    );
  }
  if (scheme.toLowerCase() !== "http" && scheme.toLowerCase() !== "https") {
    throw new UsageError(`--url must be an http:// or https:// URL (got "${url}")`);
  }
  if (!URL.canParse(url)) {
    throw new UsageError(`--url is not a valid URL (got "${url}")`);
  }
}

/** A lifetime flag in whole seconds; absent means 0 (the default). The service checks the range. */
function secondsOf(values: Values, name: Option): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  if (typeof raw !== "string" || !/^[0-9]{1,10}$/.test(raw)) {
    throw new UsageError(`--${name} must be a whole number of seconds (got "${String(raw)}")`);
  }
  const seconds = Number(raw);
  if (seconds > 0xffff_ffff) throw new UsageError(`--${name} must be at most 86400 seconds`);
  return seconds;
}
