import { spawn } from "node:child_process";
import { once } from "node:events";
import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { startApp } from "./support/app-server.js";
import { SAMPLE } from "./support/decode-token.js";
import { type SpawnedService, spawnService } from "./support/spawn-service.js";

const root = resolve(import.meta.dirname, "..");
const CREDENTIALS = { APP_ID: SAMPLE.appId, APP_CERTIFICATE: SAMPLE.appCertificate };

/** This machine's first address that is not loopback, to call the service as another host would. */
const otherAddress = Object.values(networkInterfaces())
  .flat()
  .find(
    (address) => address !== undefined && !address.internal && address.family === "IPv4",
  )?.address;

async function stopped(service: SpawnedService): Promise<string> {
  service.process.kill("SIGTERM");
  await service.exited;
  return service.output();
}

/** Whether `GET /healthz` on `host` answers (false when the connection is refused). */
async function answers(host: string, port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${host}:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}

/** Runs `src/main.ts` to its exit, stdout and stderr together; `tty` runs it under script(1). */
async function runToExit(
  env: Record<string, string>,
  { tty }: { tty: boolean },
): Promise<{ code: number | null; output: string }> {
  const tsx = pathToFileURL(resolve(root, "node_modules/tsx/dist/loader.mjs")).href;
  const command = [process.execPath, "--import", tsx, resolve(root, "src/main.ts")];
  const child = tty
    ? spawn("script", ["-qec", command.map((part) => `'${part}'`).join(" "), "/dev/null"], {
        env: { PATH: process.env.PATH ?? "", TERM: "dumb", ...env },
      })
    : spawn(command[0] ?? "", command.slice(1), { env: { PATH: process.env.PATH ?? "", ...env } });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const [code] = await once(child, "exit");
  return { code: code as number | null, output };
}

describe("the start-up log", () => {
  it("shows the JWT settings in force, hiding only a password in the JWKS URL", async () => {
    const server = await startApp({
      API_KEYS: "web:web-key-9f8e7d6c5b4a3928",
      JWT_JWKS_URL: "http://jwks-reader:s3cret-pass@127.0.0.1:9/.well-known/jwks.json",
      JWT_ISSUER: "https://id.example.test/",
      JWT_AUDIENCE: "agora-tokens, agora-tokens-staging",
      JWT_UID_CLAIM: "agora_uid",
      JWT_ALGORITHMS: "ES256",
    });
    try {
      const line = server.logLines().find((entry) => entry.msg === "callers must authenticate");
      expect(line).toMatchObject({
        level: "info",
        apiKeys: ["web"],
        jwtSettings: {
          keys: "http://[redacted]@127.0.0.1:9/.well-known/jwks.json",
          issuer: "https://id.example.test/",
          audiences: ["agora-tokens", "agora-tokens-staging"],
          algorithms: ["ES256"],
          uidClaim: "agora_uid",
          channelsClaim: null,
          adminClaim: null,
          clockToleranceSeconds: 30,
        },
      });
      expect(server.logText()).not.toContain("s3cret-pass");
      expect(server.logText()).not.toContain("web-key-9f8e7d6c5b4a3928");
    } finally {
      await server.close();
    }
  });

  it("listens on loopback only with the demo credentials, and says so", async () => {
    const service = await spawnService({ HOST: "" });
    expect(await answers("127.0.0.1", service.port)).toBe(true);
    if (otherAddress !== undefined) expect(await answers(otherAddress, service.port)).toBe(false);
    const log = await stopped(service);
    expect(log).toContain(`"msg":"listening on 127.0.0.1:${service.port}"`);
    expect(log).toMatch(
      /"level":"warn".*"msg":"demo credentials: listening on loopback \(127\.0\.0\.1\) only, so other machines cannot mint tokens here\. Set HOST=0\.0\.0\.0 to serve them\."/,
    );
  });

  it("listens on every interface with real credentials, or wherever HOST says", async () => {
    const services = await Promise.all(
      [{ ...CREDENTIALS, HOST: "" }, { HOST: "0.0.0.0" }].map((env) => spawnService(env)),
    );
    for (const service of services) {
      if (otherAddress !== undefined) expect(await answers(otherAddress, service.port)).toBe(true);
      const log = await stopped(service);
      expect(log).toContain(`"msg":"listening on 0.0.0.0:${service.port}"`);
      expect(log).not.toContain("listening on loopback");
    }
  });

  it("shows the CORS setting in force", async () => {
    const [unset, listed, one] = await Promise.all(
      [
        {},
        { CORS_ALLOW_ORIGIN: "https://app.example.com, http://localhost:3000" },
        {
          CORS_ALLOW_ORIGIN: "https://app.example.com",
        },
      ].map(async (env) => stopped(await spawnService(env))),
    );
    expect(unset).toContain(
      '"corsAllowOrigin":[],"msg":"CORS: no web page on another origin may call this service (CORS_ALLOW_ORIGIN is unset)"',
    );
    expect(listed).toContain(
      '"corsAllowOrigin":["https://app.example.com","http://localhost:3000"],"msg":"CORS: web pages on 2 origins may call this service"',
    );
    expect(one).toContain('"msg":"CORS: web pages on 1 origin may call this service"');
  });
});

describe("configuration errors at start-up", () => {
  const bad = {
    CORS_ALLOW_ORIGIN: "https://app.example.com/",
    APP_ID: "short",
    APP_CERTIFICATE: "f",
  };

  it("are one JSON line naming every problem when stderr is not a terminal, with exit code 1", async () => {
    const { code, output } = await runToExit(bad, { tty: false });
    expect(code).toBe(1);
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "error",
      msg: "invalid configuration",
      problems: [
        "APP_ID must be exactly 32 hexadecimal characters (got 5 characters)",
        "APP_CERTIFICATE must be exactly 32 hexadecimal characters (got 1 character)",
        'CORS_ALLOW_ORIGIN entry "https://app.example.com/" must be an origin (scheme://host[:port]) with nothing after it, not "/". Write https://app.example.com',
      ],
    });
  });

  it("are one problem a line in a terminal", async () => {
    const { code, output } = await runToExit(bad, { tty: true });
    expect(code).toBe(1);
    expect(output.replaceAll("\r\n", "\n")).toBe(
      [
        "invalid configuration:",
        "  - APP_ID must be exactly 32 hexadecimal characters (got 5 characters)",
        "  - APP_CERTIFICATE must be exactly 32 hexadecimal characters (got 1 character)",
        '  - CORS_ALLOW_ORIGIN entry "https://app.example.com/" must be an origin (scheme://host[:port]) with nothing after it, not "/". Write https://app.example.com',
        "The README's Configuration table lists every variable and its rules.",
        "",
      ].join("\n"),
    );
  });
});
