import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typeCheckConsumer } from "./support/consumer-project.js";
import { decodeToken, privilegesFor, SAMPLE } from "./support/decode-token.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};

// What a Node project writes to get a token: the README's five lines.
const GET_TOKEN = `import { createTokenClient, RtcRole } from "agora-token-service/client";
const client = createTokenClient({ baseUrl: process.argv[2], protocol: process.argv[3] });
const request = { case: "rtc", value: { channel: "c", uid: "42", role: RtcRole.PUBLISHER } };
const { token } = await client.getToken({ request });
console.log(token);
`;

// Uses the exported types; each @ts-expect-error fails the check if the types were lost (any).
const CONSUMER_TS = `import {
  AgentKind,
  createTokenClient,
  type GetTokenResponse,
  type InspectTokenResponse,
  RtcRole,
  ServiceKind,
  SignedWith,
  type TokenClient,
} from "agora-token-service/client";
import { TokenService } from "agora-token-service/gen";
import { ConfigError, createTokenRoutes, type TokenRoutes } from "agora-token-service/server";
import { createTokenClient as createWebClient } from "agora-token-service/web";

const client: TokenClient = createTokenClient({ baseUrl: "http://localhost:8080", protocol: "grpc", apiKey: "k" });
const response: GetTokenResponse = await client.getToken({
  request: { case: "rtm", value: { uid: "alice", channel: "*", expireSeconds: 60 } },
});
const token: string = response.token;
const seconds: bigint | undefined = response.expiresAt?.seconds;
const inspection: InspectTokenResponse = await client.inspectToken({ token });
const kinds: ServiceKind[] = inspection.services.map((service) => service.kind);
const rotated: boolean = inspection.signedWith === SignedWith.SECONDARY_CERTIFICATE;
const agent = await client.getToken({
  request: {
    case: "agent",
    value: {
      kind: AgentKind.CONVERSATIONAL_AI,
      rtcRtm: { channel: "c", uid: "1001", role: RtcRole.PUBLISHER, rtmExpireSeconds: 600 },
    },
  },
});
const renewBy: bigint | undefined = agent.privilegesExpireAt?.seconds;
await client.getToken({
  request: {
    case: "rtc",
    value: { channel: "c", uid: "7", role: RtcRole.PUBLISHER, privilegeExpiry: { publishAudioSeconds: 60 } },
  },
});
const method: string = TokenService.method.inspectToken.name;
// @ts-expect-error the token is a string
const wrong: number = response.token;
// @ts-expect-error browsers cannot speak plain gRPC
createWebClient({ baseUrl: "https://tokens.example.com", protocol: "grpc" });
// @ts-expect-error a request names one of rtc, rtm, chat, rtcRtm or agent
await client.getToken({ request: { case: "video", value: {} } });
// @ts-expect-error an agent's kind is an AgentKind
await client.getToken({ request: { case: "agent", value: { kind: "convoai" } } });
createWebClient({ baseUrl: "https://tokens.example.com", protocol: "grpc-web", jwt: "j" });
const routes: TokenRoutes = createTokenRoutes({
  credentials: { appId: "a", appCertificate: "b" },
  rateLimit: { perMinute: 60, redisFailure: "closed" },
});
const problems: readonly string[] = new ConfigError([]).problems;
// @ts-expect-error the rate limit needs perMinute
createTokenRoutes({ credentials: { appId: "a", appCertificate: "b" }, rateLimit: { burst: 5 } });
export { routes, problems };
export { seconds, kinds, method, wrong, RtcRole, rotated, renewBy };
`;

let server: TestServer;
let project: string;

beforeAll(async () => {
  server = await startTestServer();
  project = mkdtempSync(join(tmpdir(), "token-client-consumer-"));
  // dist/ was built by the global setup: pack exactly that, without rebuilding under other tests.
  const packed = await run(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", project],
    {
      cwd: root,
    },
  );
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      join(project, filename),
      `typescript@${manifest.devDependencies.typescript}`,
      `@types/node@${manifest.devDependencies["@types/node"]}`,
    ],
    { cwd: project },
  );
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the packed tarball installed in a fresh project", () => {
  it.each(["connect", "grpc", "grpc-web"])(
    "gets a token over %s with the shipped ./client in five lines",
    async (protocol) => {
      writeFileSync(join(project, "get-token.mjs"), GET_TOKEN);
      const { stdout } = await run(process.execPath, ["get-token.mjs", server.baseUrl, protocol], {
        cwd: project,
      });
      const decoded = decodeToken(stdout.trim());
      expect(decoded).toMatchObject({ appId: SAMPLE.appId, signatureValid: true });
      expect(decoded.services).toEqual([
        { type: 1, channel: "c", uid: "42", privileges: privilegesFor([1, 2, 3, 4], 3600) },
      ]);
    },
  );

  it("type-checks a TypeScript consumer of ./client, ./web and ./gen", async () => {
    const result = await typeCheckConsumer(project, CONSUMER_TS);
    expect(result).toEqual({ stdout: "", stderr: "" });
  });

  it("serves the legacy route and health from ./server in a plain Node HTTP server", async () => {
    writeFileSync(
      join(project, "embed.mjs"),
      `import { createServer } from "node:http";
import { createTokenRoutes } from "agora-token-service/server";
const tokens = createTokenRoutes({ credentials: { appId: process.argv[2], appCertificate: process.argv[3] }, logger: { info() {}, warn() {}, error() {}, debug() {} } });
const server = createServer((req, res) => tokens.middleware(req, res, () => { res.writeHead(404); res.end(); }));
server.listen(0, "127.0.0.1", async () => {
  const base = "http://127.0.0.1:" + server.address().port;
  const ready = await fetch(base + "/readyz");
  const legacy = await fetch(base + "/getToken", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tokenType: "chat", uid: "zoe" }) });
  const other = await fetch(base + "/other");
  console.log(JSON.stringify({ ready: ready.status, token: (await legacy.json()).token, other: other.status }));
  server.close();
});
`,
    );
    const { stdout } = await run(
      process.execPath,
      ["embed.mjs", SAMPLE.appId, SAMPLE.appCertificate],
      { cwd: project },
    );
    const printed = JSON.parse(stdout) as { ready: number; token: string; other: number };
    expect(printed).toMatchObject({ ready: 200, other: 404 });
    expect(decodeToken(printed.token).services).toEqual([
      { type: 5, userId: "zoe", privileges: privilegesFor([1], 3600) },
    ]);
  });

  it("installs the agora-token-service command, which mints and serves the playground", async () => {
    const bin = join(project, "node_modules", ".bin", "agora-token-service");
    const env = {
      PATH: process.env.PATH ?? "",
      APP_ID: SAMPLE.appId,
      APP_CERTIFICATE: SAMPLE.appCertificate,
    };
    const minted = await run(bin, ["mint", "chat", "--uid", "bob", "--json"], {
      cwd: project,
      env,
    });
    expect(decodeToken(JSON.parse(minted.stdout).token).services).toEqual([
      { type: 5, userId: "bob", privileges: privilegesFor([1], 3600) },
    ]);

    const service = spawn(bin, ["serve"], {
      cwd: project,
      env: { ...env, HOST: "127.0.0.1", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      const port = await new Promise<number>((resolvePort, reject) => {
        service.stdout.on("data", (chunk) => {
          output += chunk;
          const match = /"port":(\d+)/.exec(output);
          if (match) resolvePort(Number(match[1]));
        });
        service.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Agora token playground");
    } finally {
      service.kill("SIGTERM");
      await once(service, "exit");
    }
  });
});
