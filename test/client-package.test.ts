import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typeCheckConsumer } from "./support/consumer-project.js";
import { decodeToken, privilegesFor, SAMPLE } from "./support/decode-token.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const pin = (name: string) =>
  `${name}@${manifest.dependencies[name] ?? manifest.devDependencies[name]}`;
const pnpm = join(root, "node_modules", ".bin", "pnpm");

/** What installing the server package brings, and the client package must not. */
const SERVER_DEPENDENCIES = ["ioredis", "pino", "prom-client", "jose", "agora-token"];

// A Node service getting a token with the client package: one import, every protocol.
const NODE_MINT = `import { createTokenClient, expiryDates, RtcRole } from "agora-token-service-client/node";
const client = createTokenClient({ baseUrl: process.argv[2], protocol: process.argv[3] });
const request = { case: "rtc", value: { channel: "c", uid: "42", role: RtcRole.PUBLISHER } };
const response = await client.getToken({ request });
console.log(JSON.stringify({ token: response.token, expiresAt: expiryDates(response).expiresAt }));
`;

// A web page's use of the browser client, bundled for browsers and run here on Node's fetch.
const WEB_MINT = `import { Code, ConnectError, createTokenClient, RtcRole } from "agora-token-service-client/web";
const [baseUrl, protocol] = globalThis.process.argv.slice(2);
const client = createTokenClient({ baseUrl, protocol });
const request = { case: "rtc", value: { channel: "c", uid: "42", role: RtcRole.SUBSCRIBER } };
const { token } = await client.getToken({ request });
const refused = await client.getToken({ request: { case: "rtc", value: { channel: "c", uid: "42" } } }).catch((e) => e);
const code = refused instanceof ConnectError ? Code[refused.code] : "not a ConnectError";
console.log(JSON.stringify({ token, code }));
`;

// Strict nodenext TypeScript against the installed declarations; each @ts-expect-error fails
// the check if the types were lost (any).
const CONSUMER_TS = `import {
  Code,
  ConnectError,
  createTokenClient,
  expiryDates,
  type GetTokenResponse,
  RtcRole,
  type TokenClient,
} from "agora-token-service-client/node";
import { type ExpiryDates, TokenService, timestampDate } from "agora-token-service-client";

const client: TokenClient = createTokenClient({ baseUrl: "http://localhost:8080", protocol: "grpc", apiKey: "k" });
async function renewBy(): Promise<Date> {
  try {
    const response: GetTokenResponse = await client.getToken({
      request: { case: "rtc", value: { channel: "c", uid: "7", role: RtcRole.PUBLISHER } },
    });
    const dates: ExpiryDates = expiryDates(response);
    return response.expiresAt ? timestampDate(response.expiresAt) : dates.privilegesExpireAt;
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.ResourceExhausted) return new Date();
    throw error;
  }
}
const method: string = TokenService.method.getToken.name;
// @ts-expect-error a Date is no string
const wrong: string = expiryDates({} as GetTokenResponse).expiresAt;
// @ts-expect-error Code has no such member
Code.NoSuchCode;
export { renewBy, method, wrong };
`;

let server: TestServer;
let work: string;
let nodeProject: string;
let webProject: string;
let serverFiles: string[];

beforeAll(async () => {
  server = await startTestServer();
  work = mkdtempSync(join(tmpdir(), "token-client-package-"));
  // dist/ and dist-client/ were built by the global setup: pack exactly those.
  const pack = async (cwd: string) => {
    const { stdout } = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
      { cwd },
    );
    return join(work, (JSON.parse(stdout) as [{ filename: string }])[0].filename);
  };
  const [serverTarball, clientTarball] = await Promise.all([
    pack(root),
    pack(join(root, "dist-client")),
  ]);
  serverFiles = (await run("tar", ["-tzf", serverTarball])).stdout.split("\n");

  nodeProject = join(work, "node-service");
  webProject = join(work, "web-page");
  for (const project of [nodeProject, webProject]) {
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
  }
  await Promise.all([
    // A Node service: the client package and connect-node, installed by npm.
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        clientTarball,
        pin("@connectrpc/connect-node"),
        pin("typescript"),
        pin("@types/node"),
      ],
      { cwd: nodeProject },
    ),
    // A web front end: the client package and connect-web, installed by pnpm, whose layout lets
    // a package reach only what it declares.
    run(
      pnpm,
      [
        "add",
        "--store-dir",
        join(work, "pnpm-store"),
        clientTarball,
        pin("@connectrpc/connect-web"),
      ],
      { cwd: webProject, env: { ...process.env, npm_config_update_notifier: "false" } },
    ),
  ]);
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every package installed in an npm project, by name. */
async function npmInstalled(project: string): Promise<string[]> {
  const { stdout } = await run("npm", ["ls", "--all", "--parseable"], { cwd: project });
  return stdout
    .split("\n")
    .filter((path) => path.includes("node_modules"))
    .map((path) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
}

/** Every package in a pnpm project's store of installed packages, by name. */
function pnpmInstalled(project: string): string[] {
  return readdirSync(join(project, "node_modules", ".pnpm"))
    .filter((entry) => entry !== "node_modules" && entry !== "lock.yaml")
    .map((entry) => entry.replace(/^(@?[^@]+)@.*$/, "$1").replace("+", "/"));
}

describe("agora-token-service-client, packed and installed alone", () => {
  it("installs none of the server's dependencies with npm, nor connect-web for Node", async () => {
    const installed = await npmInstalled(nodeProject);
    expect(installed).toContain("agora-token-service-client");
    expect(installed).toContain("@connectrpc/connect-node");
    for (const name of [...SERVER_DEPENDENCIES, "agora-token-service", "@connectrpc/connect-web"]) {
      expect(installed).not.toContain(name);
    }
  });

  it("installs none of the server's dependencies with pnpm, nor connect-node for browsers", () => {
    const installed = pnpmInstalled(webProject);
    expect(installed.sort()).toEqual([
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect-web",
      "agora-token-service-client",
    ]);
  });

  it.each(["connect", "grpc", "grpc-web"])(
    "mints over %s with ./node from a running service",
    async (protocol) => {
      writeFileSync(join(nodeProject, "mint.mjs"), NODE_MINT);
      const { stdout } = await run(process.execPath, ["mint.mjs", server.baseUrl, protocol], {
        cwd: nodeProject,
      });
      const printed = JSON.parse(stdout) as { token: string; expiresAt: string };
      const decoded = decodeToken(printed.token);
      expect(decoded).toMatchObject({ appId: SAMPLE.appId, signatureValid: true });
      expect(decoded.services).toEqual([
        { type: 1, channel: "c", uid: "42", privileges: privilegesFor([1, 2, 3, 4], 3600) },
      ]);
      expect(Date.parse(printed.expiresAt) / 1000).toBe(decoded.issuedAt + 3600);
    },
  );

  it("type-checks a strict nodenext TypeScript consumer of the package and ./node", async () => {
    const result = await typeCheckConsumer(nodeProject, CONSUMER_TS);
    expect(result).toEqual({ stdout: "", stderr: "" });
  });

  it("bundles ./web for browsers at the gzip size the README states, and the bundle mints", async () => {
    writeFileSync(join(webProject, "page.mjs"), WEB_MINT);
    const bundle = await build({
      absWorkingDir: webProject,
      entryPoints: ["page.mjs"],
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      minify: true,
      write: false,
      logLevel: "silent",
    });
    const code = bundle.outputFiles[0]?.contents ?? new Uint8Array();
    expect(new TextDecoder().decode(code)).not.toMatch(/node:http2|node:zlib/);
    const gzipKiB = gzipSync(code).length / 1024;
    const stated = /The browser client bundles to about (\d+) KiB/.exec(
      readFileSync(join(root, "README.md"), "utf8"),
    );
    expect(stated, "the README states the browser bundle's gzip size").not.toBeNull();
    // Within 2 KiB of what the README says (rounding, and small changes in the dependencies).
    expect(Math.abs(gzipKiB - Number(stated?.[1]))).toBeLessThanOrEqual(2);

    writeFileSync(join(webProject, "bundle.mjs"), code);
    for (const protocol of ["connect", "grpc-web"]) {
      const { stdout } = await run(process.execPath, ["bundle.mjs", server.baseUrl, protocol], {
        cwd: webProject,
      });
      const printed = JSON.parse(stdout) as { token: string; code: string };
      expect(printed.code).toBe("InvalidArgument");
      expect(decodeToken(printed.token).services).toEqual([
        { type: 1, channel: "c", uid: "42", privileges: privilegesFor([1], 3600) },
      ]);
    }
  });

  it("leaves the server package's ./client, ./web and ./gen in place, and no client package in it", () => {
    expect(serverFiles).toEqual(
      expect.arrayContaining([
        "package/dist/src/client/index.js",
        "package/dist/src/web/index.js",
        "package/dist/gen/agora/token/v1/token_service_pb.js",
      ]),
    );
    expect(serverFiles.filter((file) => file.includes("dist-client"))).toEqual([]);
  });
});
