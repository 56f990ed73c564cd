import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postLegacy } from "../support/clients.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { envOf, execForm, parseDockerfile } from "../support/dockerfile.js";

const root = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "runtime-stage-"));
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** The uid and gid of a local account, or of `nobody` when this machine has no such user. */
function localAccount(name: string): { uid: number; gid: number; name: string } {
  const entries = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"));
  const entry =
    entries.find((fields) => fields[0] === name) ?? entries.find((f) => f[0] === "nobody");
  if (!entry) throw new Error(`no account ${name} and no nobody`);
  return { name: entry[0] ?? "", uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Runs argv as `account` (when we are root, as Docker's USER would), else as ourselves. */
function asUser(account: { uid: number; gid: number } | undefined, argv: string[]): string[] {
  if (account === undefined || process.getuid?.() !== 0) return argv;
  return [
    "setpriv",
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    "--clear-groups",
    "--",
    ...argv,
  ];
}

/**
 * No Docker engine here: this carries out the runtime stage of the Dockerfile itself, instruction
 * by instruction, in a temporary directory (the build stage's output comes from `npm run build`).
 */
describe("the Dockerfile's runtime stage, carried out without Docker", () => {
  it("installs production dependencies only, runs as a non-root user, and passes its HEALTHCHECK", async () => {
    const stages = parseDockerfile(join(root, "Dockerfile"));
    const build = stages[0];
    const runtime = stages.at(-1);
    if (!build || !runtime || build === runtime) throw new Error("expected two stages");
    const buildWorkdir = build.instructions.find((i) => i.keyword === "WORKDIR")?.body ?? "/";
    const buildOutput = join(work, "build");
    execFileSync("npm", ["run", "build", "--", "--outDir", join(buildOutput, "dist")], {
      cwd: root,
      stdio: "pipe",
    });

    const app = join(work, "app");
    let env: Record<string, string> = {};
    let account: { uid: number; gid: number; name: string } | undefined;
    let command: string[] = [];
    let healthcheck: string[] = [];
    for (const { keyword, flags, body } of runtime.instructions) {
      switch (keyword) {
        case "ENV":
          env = { ...env, ...envOf(body) };
          break;
        case "WORKDIR":
          break;
        case "COPY": {
          const parts = body.split(/\s+/);
          const destination = parts.at(-1) ?? ".";
          for (const source of parts.slice(0, -1)) {
            const from =
              flags.from === "build"
                ? join(buildOutput, relative(buildWorkdir, source))
                : join(root, source);
            // "dir/" receives each source under its own name; otherwise it is the new name.
            const to = destination.endsWith("/")
              ? join(app, destination, basename(source))
              : join(app, destination);
            cpSync(from, to, { recursive: true });
          }
          break;
        }
        case "RUN":
          // RUN runs as root before USER, as in a Docker build; ENV applies.
          execFileSync("sh", ["-c", body], {
            cwd: app,
            stdio: "pipe",
            env: { ...process.env, ...env, npm_config_prefer_offline: "true" },
          });
          break;
        case "USER":
          account = localAccount(body.split(":")[0] ?? "");
          break;
        case "EXPOSE":
          break;
        case "HEALTHCHECK":
          healthcheck = execForm(body);
          break;
        case "CMD":
          command = execForm(body);
          break;
        default:
          throw new Error(`the runtime stage check does not know ${keyword}`);
      }
    }
    chmodSync(work, 0o755);
    chmodSync(app, 0o755);

    // Production dependencies only.
    const installed = (name: string) => existsSync(join(app, "node_modules", name));
    for (const name of ["pino", "prom-client", "@connectrpc/connect-node", "agora-token"]) {
      expect(installed(name), name).toBe(true);
    }
    for (const name of ["typescript", "vitest", "tsx", "@biomejs/biome", "pino-pretty"]) {
      expect(installed(name), name).toBe(false);
    }

    // Credentials only now, at run time, as `docker run -e` or a Kubernetes Secret gives them.
    const runEnv = {
      PATH: process.env.PATH ?? "",
      ...env,
      HOST: "127.0.0.1",
      PORT: "0",
      APP_ID: SAMPLE.appId,
      APP_CERTIFICATE: SAMPLE.appCertificate,
    };
    const [program = "", ...args] = asUser(account, command);
    server = spawn(program, args, { cwd: app, env: runEnv, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    server.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    server.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const exited = once(server, "exit").then(([code]) => code as number | null);
    const port = await new Promise<number>((resolvePort, reject) => {
      server?.stdout?.on("data", () => {
        const match = /"port":(\d+)/.exec(output);
        if (match) resolvePort(Number(match[1]));
      });
      exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });

    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1];
    expect(Number(uid)).not.toBe(0);

    const [checkProgram = "", ...checkArgs] = asUser(account, healthcheck);
    const check = spawnSync(checkProgram, checkArgs, {
      cwd: app,
      env: { ...runEnv, PORT: String(port) },
      timeout: 30_000,
    });
    expect(check.status, String(check.stderr)).toBe(0);

    const baseUrl = `http://127.0.0.1:${port}`;
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
    const minted = await postLegacy(baseUrl, { tokenType: "rtm", uid: "container" });
    expect(minted.status).toBe(200);
    expect(decodeToken(String(minted.json.token)).services[0]).toMatchObject({
      userId: "container",
    });
    // JSON logs in production, and the certificate nowhere in them.
    expect(output).toMatch(/^\{"level":"info"/m);
    expect(output).not.toContain(SAMPLE.appCertificate);

    server.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 240_000);
});
