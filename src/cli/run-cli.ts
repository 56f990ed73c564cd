import { type MessageInitShape, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  AgentKind,
  type GetTokenRequestSchema,
  GetTokenResponseSchema,
  InspectTokenResponseSchema,
  RtcRole,
  type RtcRtmTokenRequestSchema,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { createTokenClient, type TokenClient } from "../client/create-token-client.js";
import { ConfigError, loadConfig } from "../load-config.js";
import { createTokenService } from "../service/create-token-service.js";
import { inFlagTerms } from "./flag-names.js";
import { DEMO_CREDENTIALS_WARNING, formatExpiry, formatInspection } from "./format-inspection.js";
import { packageVersion } from "./package-version.js";
import {
  type CliArgs,
  type MintArgs,
  parseCliArgs,
  type RtcFlags,
  type RtcRtmFlags,
  UsageError,
  usage,
} from "./parse-cli-args.js";

type Env = Readonly<Record<string, string | undefined>>;

export interface CliIo {
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The whole of standard input, for `inspect -`. */
  readStdin: () => Promise<string>;
  /** Starts the service as `npm start` does; the process then runs until it is signalled. */
  serve: () => Promise<void>;
  /** Milliseconds since the Unix epoch. */
  now?: () => number;
}

/** Exit codes: 0 done, 1 the service refused or failed, 2 the command line is wrong. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs one command of `agora-token-service` and resolves with its exit code. Tokens and errors
 * go to stdout and stderr; with `--json`, stdout gets the response as proto JSON.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`error: ${error.message}\nRun "agora-token-service --help" for usage.\n`);
    return ExitCode.usage;
  }
  const now = io.now ?? Date.now;
  try {
    switch (args.command) {
      case "help":
        io.stdout(usage);
        return ExitCode.ok;
      case "version":
        io.stdout(`${packageVersion()}\n`);
        return ExitCode.ok;
      case "serve":
        await io.serve();
        return ExitCode.ok;
      case "mint": {
        const client = clientFor(args, io);
        const response = await client.getToken(getTokenRequestOf(args.mint));
        if (args.json) io.stdout(`${JSON.stringify(toJson(GetTokenResponseSchema, response))}\n`);
        else io.stdout(`${response.token}\n`);
        if (response.demoCredentials) {
          io.stderr(
            demoWarning(
              args.url === undefined
                ? "Set APP_ID and APP_CERTIFICATE to your project's."
                : "Give the service your project's APP_ID and APP_CERTIFICATE.",
            ),
          );
        }
        if (!args.json) {
          io.stderr(`expires ${formatExpiry(response.expiresAt, now() / 1000)}\n`);
          const { expiresAt, privilegesExpireAt } = response;
          if (privilegesExpireAt && privilegesExpireAt.seconds !== expiresAt?.seconds) {
            io.stderr(
              `first privilege expires ${formatExpiry(privilegesExpireAt, now() / 1000)}: renew before then\n`,
            );
          }
        }
        return ExitCode.ok;
      }
      case "inspect": {
        const token = args.token === "-" ? (await io.readStdin()).trim() : args.token;
        const client = clientFor(args, io);
        const response = await client.inspectToken({ token });
        // The report says it in its own lines; JSON readers get it on stderr too.
        if (args.json && response.demoCredentials) {
          io.stderr(demoWarning("Mint it with your project's APP_ID and APP_CERTIFICATE."));
        }
        io.stdout(
          args.json
            ? `${JSON.stringify(toJson(InspectTokenResponseSchema, response, { alwaysEmitImplicit: true }))}\n`
            : `${formatInspection(response, now() / 1000)}\n`,
        );
        return ExitCode.ok;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n`);
      return ExitCode.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`error: ${error.message}\n`);
      return ExitCode.failed;
    }
    const connectError = ConnectError.from(error);
    // The service names proto fields; the person typed flags.
    const message =
      args.command === "mint" ? inFlagTerms(connectError.rawMessage) : connectError.rawMessage;
    if ("json" in args && args.json) {
      const code = codeName(connectError);
      io.stderr(`${JSON.stringify({ error: { code, message } })}\n`);
    } else io.stderr(`error: ${message} (${codeName(connectError)})\n`);
    return ExitCode.failed;
  }
}

/** The line printed next to a token signed with the demo credentials, saying what to do. */
function demoWarning(fix: string): string {
  return `warning: ${DEMO_CREDENTIALS_WARNING}. ${fix}\n`;
}

/** A client's option error in the words of the command line (`baseUrl` is `--url`). */
function inOptionTerms(message: string): string {
  return message
    .replace(/\bbaseUrl\b/, "--url")
    .replace(/\bapiKey\b/, "--api-key (or AGORA_TOKEN_SERVICE_API_KEY)")
    .replace(/\bjwt\b/, "--jwt (or AGORA_TOKEN_SERVICE_JWT)");
}

/** Against `--url`, the shipped Node client; otherwise the service itself, in process. */
function clientFor(
  args: Extract<CliArgs, { command: "mint" | "inspect" }>,
  io: CliIo,
): TokenClient {
  if (args.url !== undefined) {
    try {
      return createTokenClient({
        baseUrl: args.url,
        protocol: args.protocol,
        apiKey: args.apiKey ?? io.env.AGORA_TOKEN_SERVICE_API_KEY,
        jwt: args.jwt ?? io.env.AGORA_TOKEN_SERVICE_JWT,
      });
    } catch (error) {
      // The client refuses a bad URL or credential at once, naming the option.
      if (error instanceof TypeError) throw new UsageError(inOptionTerms(error.message));
      throw error;
    }
  }
  // The same settings and checks as the service: malformed credentials are refused by name.
  const config = loadConfig({
    APP_ID: io.env.APP_ID,
    APP_CERTIFICATE: io.env.APP_CERTIFICATE,
    APP_CERTIFICATE_SECONDARY: io.env.APP_CERTIFICATE_SECONDARY,
    NODE_ENV: io.env.NODE_ENV,
  });
  // A minted token carries its own warning (demoCredentials); a token that is checked may not be
  // a demo one, yet it is checked against them.
  if (config.usingDemoCredentials && args.command === "inspect") {
    io.stderr(
      "warning: APP_ID and APP_CERTIFICATE are not set so the token is checked against the public demo credentials.\n",
    );
  }
  const service = createTokenService({ credentials: config.credentials });
  return createClient(
    TokenService,
    createRouterTransport((router) => router.service(TokenService, service)),
  );
}

function getTokenRequestOf(mint: MintArgs): MessageInitShape<typeof GetTokenRequestSchema> {
  switch (mint.kind) {
    case "rtc":
      return { request: { case: "rtc", value: rtcRequestOf(mint) } };
    case "rtm":
      return { request: { case: "rtm", value: mint } };
    case "chat":
      return { request: { case: "chat", value: mint } };
    case "rtc-rtm":
      return { request: { case: "rtcRtm", value: rtcRtmRequestOf(mint) } };
    case "agent": {
      const kind =
        mint.agent === "convoai" ? AgentKind.CONVERSATIONAL_AI : AgentKind.SPEECH_TO_TEXT;
      return { request: { case: "agent", value: { kind, rtcRtm: rtcRtmRequestOf(mint) } } };
    }
  }
}

/** The RTC fields, shared by `rtc` and `rtc_rtm` requests. */
function rtcRequestOf(flags: RtcFlags) {
  const role =
    flags.role === "publisher"
      ? RtcRole.PUBLISHER
      : flags.role === "subscriber"
        ? RtcRole.SUBSCRIBER
        : RtcRole.UNSPECIFIED;
  const { channel, uid, expireSeconds, privilegeExpire, each } = flags;
  return {
    channel,
    uid,
    role,
    expireSeconds,
    privilegeExpireSeconds: privilegeExpire,
    ...(each && {
      privilegeExpiry: {
        joinChannelSeconds: each.joinChannel,
        publishAudioSeconds: each.publishAudio,
        publishVideoSeconds: each.publishVideo,
        publishDataStreamSeconds: each.publishDataStream,
      },
    }),
  };
}

function rtcRtmRequestOf(flags: RtcRtmFlags): MessageInitShape<typeof RtcRtmTokenRequestSchema> {
  return {
    ...rtcRequestOf(flags),
    rtmUserId: flags.rtmUserId,
    rtmExpireSeconds: flags.rtmExpireSeconds,
  };
}

/** `invalid_argument`, as Connect names codes on the wire. */
function codeName(error: ConnectError): string {
  return Code[error.code].replace(/[A-Z]/g, (char, at: number) =>
    at === 0 ? char.toLowerCase() : `_${char.toLowerCase()}`,
  );
}
