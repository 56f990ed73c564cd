import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE } from "./support/decode-token.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
/** What `npm run build`, `npm start` and `npm pack` need of a checkout. */
const SOURCES = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts",
  "src",
  "gen",
  "playground",
  "proto",
];

const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
};
let checkout: string;
let env: NodeJS.ProcessEnv;

/** `npx agora-token-service …` in the checkout, as a person types it. */
function npx(...args: string[]) {
  return run("npx", ["agora-token-service", ...args], { cwd: checkout, env });
}

// A copy of the project that this file may rebuild as often as it likes: the suite's own dist/
// is built once by the global setup and must not change under other tests.
beforeAll(() => {
  checkout = mkdtempSync(join(tmpdir(), "cli-rebuild-"));
  for (const entry of SOURCES)
    cpSync(join(root, entry), join(checkout, entry), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(checkout, "node_modules"));
  env = {
    PATH: process.env.PATH ?? "",
    HOME: checkout,
    // npx links the package's bin once into its cache; a cache of our own starts from nothing.
    npm_config_cache: join(checkout, ".npm"),
    npm_config_update_notifier: "false",
    APP_ID: SAMPLE.appId,
    APP_CERTIFICATE: SAMPLE.appCertificate,
  };
});

afterAll(() => {
  if (checkout) rmSync(checkout, { recursive: true, force: true });
});

describe("npx agora-token-service after a rebuild", () => {
  it("still runs after npm run build, npm start and npm pack rebuild dist/", async () => {
    await run("npm", ["run", "build"], { cwd: checkout, env });
    expect((await npx("--version")).stdout).toBe(`${version}\n`);

    // The link npx made above stays; the rebuilt file behind it must be executable again.
    await run("npm", ["run", "build"], { cwd: checkout, env });
    expect((await npx("--version")).stdout).toBe(`${version}\n`);

    const start = spawn("npm", ["start"], {
      cwd: checkout,
      env: { ...env, HOST: "127.0.0.1", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    try {
      await new Promise<void>((resolveListening, reject) => {
        start.stdout.on("data", (chunk) => {
          output += chunk;
          if (output.includes('"msg":"listening on')) resolveListening();
        });
        start.once("exit", (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
      });
    } finally {
      // npm and the service it started, which share the new process group.
      if (start.pid !== undefined) process.kill(-start.pid, "SIGTERM");
      if (start.exitCode === null) await once(start, "exit");
    }
    expect((await npx("--version")).stdout).toBe(`${version}\n`);

    const packed = await run("npm", ["pack", "--json", "--pack-destination", checkout], {
      cwd: checkout,
      env,
    });
    expect((await npx("--version")).stdout).toBe(`${version}\n`);
    expect((await npx("-h")).stdout).toContain("Usage: agora-token-service <command> [options]");
    const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [
      { filename: string },
    ];
    // Whoever unpacks the tarball without npm (a container build, tar x) gets a runnable bin.
    const listing = await run("tar", ["-tvzf", join(checkout, filename)]);
    expect(listing.stdout).toMatch(/^-rwxr-xr-x .* package\/dist\/src\/cli\.js$/m);
    expect(statSync(join(checkout, "dist", "src", "cli.js")).mode & 0o111).toBe(0o111);
  }, 300_000);
});
