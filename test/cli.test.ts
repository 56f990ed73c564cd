import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeToken, privilegesFor, SAMPLE } from "./support/decode-token.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// The built command, as `npx agora-token-service` runs it (the global setup builds dist/).
const CLI = resolve(import.meta.dirname, "../dist/src/cli.js");
const CREDENTIALS = { APP_ID: SAMPLE.appId, APP_CERTIFICATE: SAMPLE.appCertificate };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(
  args: string[],
  { env = CREDENTIALS, input }: { env?: Record<string, string>; input?: string } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    // A directory without a .env file, so only `env` configures the command.
    cwd: import.meta.dirname,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(input ?? "");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("agora-token-service mint", () => {
  it("mints an RTC token locally and prints only the token on stdout", async () => {
    const run = await cli([
      "mint",
      "rtc",
      "--channel",
      "c",
      "--uid",
      "u",
      "--role",
      "publisher",
      "--expire",
      "600",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^007\S+\n$/);
    // After the demo credentials' warning (these tests sign with them).
    expect(run.stderr).toMatch(
      /^warning: [^\n]+\nexpires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (10m|9m \d+s)\)\n$/,
    );
    const decoded = decodeToken(run.stdout.trim());
    expect(decoded).toMatchObject({
      appId: SAMPLE.appId,
      expireSeconds: 600,
      signatureValid: true,
    });
    expect(decoded.services).toEqual([
      { type: 1, channel: "c", uid: "u", privileges: privilegesFor([1, 2, 3, 4], 600) },
    ]);
  });

  it("prints JSON with --json, and mints RTM and Chat tokens", async () => {
    const [rtm, chat] = await Promise.all([
      cli(["mint", "rtm", "--uid", "alice", "--channel", "*", "--json"]),
      cli(["mint", "chat", "--uid", "bob", "--expire", "60", "--json"]),
    ]);
    expect(rtm.code).toBe(0);
    const rtmJson = JSON.parse(rtm.stdout) as { token: string; expiresAt: string };
    const decodedRtm = decodeToken(rtmJson.token);
    expect(Date.parse(rtmJson.expiresAt) / 1000).toBe(decodedRtm.issuedAt + 3600);
    expect(decodedRtm.services).toEqual([
      { type: 1, channel: "*", uid: "alice", privileges: privilegesFor([1, 4], 3600) },
      { type: 2, userId: "alice", privileges: privilegesFor([1], 3600) },
    ]);
    expect(chat.code).toBe(0);
    expect(decodeToken(JSON.parse(chat.stdout).token).services).toEqual([
      { type: 5, userId: "bob", privileges: privilegesFor([1], 60) },
    ]);
  });

  it("mints RTC tokens whose privileges expire before the token, and says when", async () => {
    const rtc = ["mint", "rtc", "--channel", "live", "--uid", "42", "--role", "publisher"];
    const [every, each] = await Promise.all([
      cli([...rtc, "--expire", "900", "--privilege-expire", "300"]),
      cli([...rtc, "--publish-audio-expire", "120", "--publish-data-stream-expire", "60"]),
    ]);
    expect(every.code).toBe(0);
    expect(decodeToken(every.stdout.trim()).services).toEqual([
      { type: 1, channel: "live", uid: "42", privileges: privilegesFor([1, 2, 3, 4], 300) },
    ]);
    expect(every.stderr).toMatch(
      /^warning: [^\n]+\nexpires \S+Z \(in (15m|14m \d+s)\)\nfirst privilege expires \S+Z \(in (5m|4m \d+s)\): renew before then\n$/,
    );
    expect(each.code).toBe(0);
    expect(decodeToken(each.stdout.trim()).services).toEqual([
      { type: 1, channel: "live", uid: "42", privileges: { 1: 3600, 2: 120, 3: 3600, 4: 60 } },
    ]);
  });

  it("mints one token for RTC and RTM, and AI agents' tokens", async () => {
    const identity = [
      "--channel",
      "room",
      "--uid",
      "1001",
      "--role",
      "publisher",
      "--expire",
      "600",
    ];
    const [rtcRtm, convoai, stt] = await Promise.all([
      cli([
        "mint",
        "rtc-rtm",
        ...identity,
        "--rtm-user-id",
        "alice",
        "--rtm-expire",
        "300",
        "--json",
      ]),
      cli(["mint", "agent", "--kind", "convoai", ...identity]),
      cli([
        "mint",
        "agent",
        "--kind",
        "stt",
        "--channel",
        "room",
        "--uid",
        "1001",
        "--role",
        "subscriber",
      ]),
    ]);
    expect(rtcRtm.code).toBe(0);
    const response = JSON.parse(rtcRtm.stdout) as { token: string; privilegesExpireAt: string };
    const decoded = decodeToken(response.token);
    expect(decoded.services).toEqual([
      { type: 1, channel: "room", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 600) },
      { type: 2, userId: "alice", privileges: { 1: 300 } },
    ]);
    expect(Date.parse(response.privilegesExpireAt) / 1000).toBe(decoded.issuedAt + 300);
    expect(convoai.code).toBe(0);
    expect(decodeToken(convoai.stdout.trim()).services).toEqual([
      { type: 1, channel: "room", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 600) },
      { type: 2, userId: "1001", privileges: { 1: 600 } },
      { type: 9, privileges: {} },
    ]);
    expect(stt.code).toBe(0);
    expect(decodeToken(stt.stdout.trim()).services).toEqual([
      { type: 1, channel: "room", uid: "1001", privileges: { 1: 3600 } },
      { type: 2, userId: "1001", privileges: { 1: 3600 } },
      { type: 10, privileges: {} },
    ]);
  });

  it("warns when it signs with the demo credentials", async () => {
    const run = await cli(["mint", "chat"], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("public demo credentials");
    expect(decodeToken(run.stdout.trim()).services).toEqual([
      { type: 5, userId: "", privileges: privilegesFor([2], 3600) },
    ]);
  });

  it("mints against a running service with --url over every protocol", async () => {
    // Local credentials differ from the server's: the token must be the server's.
    const env = { APP_ID: "0".repeat(32), APP_CERTIFICATE: "1".repeat(32) };
    const runs = await Promise.all(
      ["connect", "grpc", "grpc-web"].map((protocol) =>
        cli(
          [
            "mint",
            "chat",
            "--uid",
            "bob",
            "--url",
            server.baseUrl,
            "--protocol",
            protocol,
            "--json",
          ],
          { env },
        ),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      const decoded = decodeToken(JSON.parse(run.stdout).token);
      expect(decoded).toMatchObject({ appId: SAMPLE.appId, signatureValid: true });
    }
  });

  it.each([
    [
      ["mint", "rtc", "--channel", "c", "--uid", "u"],
      1,
      /^error: --role is required and must be publisher or subscriber \(invalid_argument\)\n$/,
    ],
    [
      ["mint", "rtc", "--channel", "c/d", "--uid", "u", "--role", "subscriber"],
      1,
      /^error: --channel has the character "\/" \(Unicode 002F\) which is not in Agora's character set/,
    ],
    [
      ["mint", "rtm", "--uid", "a", "--expire", "90000"],
      1,
      /^error: --expire must be at most 86400 seconds \(24 hours\) \(invalid_argument\)\n$/,
    ],
    [["mint", "rtm", "--uid", "a", "--expire=-5"], 2, /^error: --expire must be a whole number/],
    [["mint", "rtc", "--role", "admin"], 2, /--role must be publisher or subscriber/],
    [
      ["mint", "video"],
      2,
      /mint needs a token kind: rtc, rtm, chat, rtc-rtm or agent \(got "video"\)/,
    ],
    [["mint", "chat", "--role", "publisher"], 2, /--role does not apply to mint chat/],
    [["mint", "chat", "--rtm-user-id", "bot"], 2, /--rtm-user-id does not apply to mint chat/],
    [["mint", "chat", "--bogus"], 2, /^error: unknown option --bogus\n/],
    [["mint", "chat", "-x"], 2, /^error: unknown option -x\n/],
    [["mint", "rtc", "--channel"], 2, /^error: --channel needs a value/],
    [["mint", "chat", "--json=yes"], 2, /^error: --json takes no value\n/],
    [["mint", "chat", "--protocol", "grpc"], 2, /--protocol needs --url/],
    [
      ["mint", "chat", "--url", "localhost:8080"],
      2,
      /^error: --url must start with http:\/\/ or https:\/\/ \(got "localhost:8080"; for a service on this machine try http:\/\/localhost:8080\)\n/,
    ],
    [
      ["mint", "chat", "--url", "ftp://tokens"],
      2,
      /^error: --url must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/tokens"\)/,
    ],
    [
      ["mint", "chat", "--url", "http://"],
      2,
      /^error: --url is not a valid URL \(got "http:\/\/"\)/,
    ],
    [
      ["mint", "agent", "--channel", "c", "--uid", "7", "--role", "publisher"],
      2,
      /mint agent needs --kind convoai or --kind stt/,
    ],
    [["mint", "agent", "--kind", "gpt"], 2, /--kind must be convoai or stt \(got "gpt"\)/],
    [
      ["mint", "rtc", "--privilege-expire", "60", "--publish-audio-expire", "30"],
      2,
      /--privilege-expire times every privilege and cannot be combined with --publish-audio-expire/,
    ],
    [
      [
        "mint",
        "rtc",
        "--channel",
        "c",
        "--uid",
        "u",
        "--role",
        "publisher",
        "--expire",
        "600",
        "--privilege-expire",
        "601",
      ],
      1,
      /^error: --privilege-expire must be at most the token's lifetime of 600 seconds \(0 means as long as the token\) \(invalid_argument\)\n$/,
    ],
    [
      [
        "mint",
        "rtc",
        "--channel",
        "c",
        "--uid",
        "u",
        "--role",
        "subscriber",
        "--publish-video-expire",
        "60",
      ],
      1,
      /^error: --publish-video-expire must be 0 for a subscriber since a subscriber has no publish privilege/,
    ],
    [
      ["mint", "rtc-rtm", "--channel", "c", "--uid", "0", "--role", "publisher"],
      1,
      /^error: --rtm-user-id is required when uid is "0" since RTM has no "any user"/,
    ],
    [
      ["mint", "rtc-rtm", "--channel", "c", "--uid", " bob", "--role", "publisher"],
      1,
      /^error: --uid as the RTM user \(--rtm-user-id is empty\) must not start with a space/,
    ],
    [
      [
        "mint",
        "agent",
        "--kind",
        "stt",
        "--channel",
        "c",
        "--uid",
        "7",
        "--role",
        "publisher",
        "--rtm-expire",
        "4000",
      ],
      1,
      /^error: --rtm-expire must be at most the token's lifetime of 3600 seconds/,
    ],
    [["launch"], 2, /unknown command "launch"/],
  ])("refuses %j with exit code %i and a clear message", async (args, code, message) => {
    const run = await cli(args);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    // Never a proto field name for a flag the person typed.
    expect(run.stderr).not.toMatch(/\b(rtc|rtm|rtc_rtm|agent)\.[a-z_]+/);
  });

  it("names the flag in the service's own errors with --url, also as JSON", async () => {
    const args = ["mint", "rtc-rtm", "--channel", "c", "--uid", "u", "--role", "publisher"];
    const [human, json] = await Promise.all([
      cli([...args, "--rtm-expire", "7200", "--url", server.baseUrl, "--protocol", "grpc"]),
      cli([...args, "--expire", "90000", "--url", server.baseUrl, "--json"]),
    ]);
    expect(human.code).toBe(1);
    expect(human.stderr).toBe(
      "error: --rtm-expire must be at most the token's lifetime of 3600 seconds (0 means as long as the token) (invalid_argument)\n",
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({
      error: {
        code: "invalid_argument",
        message: "--expire must be at most 86400 seconds (24 hours)",
      },
    });
  });

  it("names a malformed APP_CERTIFICATE without printing it", async () => {
    const run = await cli(["mint", "chat"], {
      env: { APP_ID: SAMPLE.appId, APP_CERTIFICATE: "not-a-secret-shape" },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("APP_CERTIFICATE must be exactly 32 hexadecimal characters");
    expect(run.stderr).not.toContain("not-a-secret-shape");
  });

  it("reports a service that cannot be reached", async () => {
    const run = await cli(["mint", "chat", "--url", "http://127.0.0.1:1", "--json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: "unavailable" } });
  });
});

describe("agora-token-service inspect", () => {
  let token: string;
  beforeAll(async () => {
    token = (await cli(["mint", "rtm", "--uid", "alice", "--expire", "120"])).stdout.trim();
  });

  it("prints a readable report", async () => {
    const project = { APP_ID: "0123456789abcdef0123456789abcdef", APP_CERTIFICATE: "f".repeat(32) };
    const minted = await cli(["mint", "rtm", "--uid", "alice", "--expire", "120"], {
      env: project,
    });
    expect(minted.stderr).not.toContain("demo");
    const run = await cli(["inspect", minted.stdout.trim()], { env: project });
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe(`App ID      ${project.APP_ID} (this service's)`);
    expect(lines[1]).toBe("Signature   valid (signed with the App Certificate)");
    expect(lines[3]).toMatch(/^Expires at {2}\S+Z \(in (2m|1m \d+s)\)$/);
    expect(run.stdout).toContain('Service RTM (2)  user "alice"');
    expect(run.stdout).toMatch(/ {2}login \(1\) +expires \S+Z \(in (2m|1m \d+s)\)/);
    expect(run.stdout + run.stderr).not.toContain("demo");
  });

  it("says next to every token it prints that the demo credentials signed it", async () => {
    const warning = "signed with the public demo credentials so Agora rejects this token";
    // In process, with the demo credentials unset or typed in, and through a demo service.
    const runs = await Promise.all([
      cli(["mint", "chat"], { env: {} }),
      cli(["mint", "chat", "--json"]),
      cli(["mint", "chat", "--url", server.baseUrl]),
      cli(["inspect", token], { env: {} }),
      cli(["inspect", token, "--url", server.baseUrl]),
      cli(["inspect", token, "--json"]),
    ]);
    const [unset, json, remote, inspected, inspectedRemotely, inspectedJson] = runs;
    for (const run of runs) expect(run.code).toBe(0);
    // Right after the token, before its expiry.
    expect(unset?.stderr.split("\n")[0]).toBe(
      `warning: ${warning}. Set APP_ID and APP_CERTIFICATE to your project's.`,
    );
    expect(decodeToken(unset?.stdout.trim() ?? "").signatureValid).toBe(true);
    expect(JSON.parse(json?.stdout ?? "")).toMatchObject({ demoCredentials: true });
    expect(json?.stderr).toContain(warning);
    expect(remote?.stderr.split("\n")[0]).toBe(
      `warning: ${warning}. Give the service your project's APP_ID and APP_CERTIFICATE.`,
    );
    for (const run of [inspected, inspectedRemotely]) {
      const lines = run?.stdout.split("\n") ?? [];
      expect(lines[0]).toBe(`App ID      ${SAMPLE.appId} (the public demo App ID)`);
      expect(lines[1]).toBe(`Signature   ${warning}`);
    }
    expect(JSON.parse(inspectedJson?.stdout ?? "")).toMatchObject({
      demoCredentials: true,
      signatureValid: true,
    });
    expect(inspectedJson?.stderr).toContain(warning);
  });

  it("prints every field as JSON, reads stdin with -, and checks against its own certificate", async () => {
    const json = await cli(["inspect", "-", "--json"], {
      input: `${token}\n`,
      env: { APP_ID: SAMPLE.appId, APP_CERTIFICATE: "0123456789abcdef0123456789abcdef" },
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      appId: SAMPLE.appId,
      appIdMatches: true,
      signatureValid: false,
      expired: false,
      expireSeconds: 120,
      services: [{ kind: "SERVICE_KIND_RTM", userId: "alice", privileges: [{ name: "login" }] }],
    });
  });

  it("inspects through a running service with --url", async () => {
    const run = await cli(["inspect", token, "--url", server.baseUrl, "--protocol", "grpc"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Service RTM (2)  user "alice"');
  });

  it("refuses an API key and a JWT together, naming the flags, with exit code 2", async () => {
    const run = await cli(["inspect", token, "--url", server.baseUrl, "--jwt", "a.b.c"], {
      env: { ...CREDENTIALS, AGORA_TOKEN_SERVICE_API_KEY: "0123456789abcdef" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "give --api-key (or AGORA_TOKEN_SERVICE_API_KEY) or --jwt (or AGORA_TOKEN_SERVICE_JWT), not both",
    );
  });

  it("says what is wrong with a string that is not a token, with exit code 1", async () => {
    const [human, json] = await Promise.all([
      cli(["inspect", "006abc"]),
      cli(["inspect", "007abc", "--json"]),
    ]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(
      "error: token is an AccessToken (006) and only AccessToken2 (007) tokens can be read (invalid_argument)",
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({
      error: {
        code: "invalid_argument",
        message:
          "token is not valid base64 (its length after 007 is not a multiple of 4 so it was cut short or lost its padding)",
      },
    });
  });
});

describe("agora-token-service serve and --help", () => {
  it("prints usage with exit code 0 for --help, -h and help", async () => {
    for (const args of [["--help"], ["-h"], ["help"], ["mint", "rtc", "-h"], []]) {
      const run = await cli(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Usage: agora-token-service <command> [options]");
      expect(run.stdout).toContain("mint agent    --kind convoai|stt");
    }
  });

  it("prints the package's version for --version", async () => {
    const { version } = JSON.parse(
      readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8"),
    ) as { version: string };
    const run = await cli(["--version"]);
    expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("starts the service, which answers and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, "serve"], {
      cwd: import.meta.dirname,
      env: { PATH: process.env.PATH ?? "", ...CREDENTIALS, HOST: "127.0.0.1", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const port = await new Promise<number>((resolvePort, reject) => {
      child.stdout.on("data", (chunk) => {
        output += chunk;
        const match = /"port":(\d+)/.exec(output);
        if (match) resolvePort(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    const ping = await fetch(`http://127.0.0.1:${port}/ping`);
    expect(await ping.json()).toEqual({ message: "pong" });
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
