import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/load-config.js";
import { envOf, execForm, type Instruction, parseDockerfile } from "../support/dockerfile.js";

const root = resolve(import.meta.dirname, "../..");
const stages = parseDockerfile(resolve(root, "Dockerfile"));
const runtime = stages.at(-1);
const build = stages[0];
const all = (keyword: string, instructions: Instruction[] = runtime?.instructions ?? []) =>
  instructions.filter((instruction) => instruction.keyword === keyword);

describe("Dockerfile", () => {
  it("builds in one stage and runs from a slim official Node image in another", () => {
    expect(stages.map((stage) => stage.name)).toEqual(["build", "runtime"]);
    // Which Node major: test/deploy/node-version.test.ts.
    for (const stage of stages) expect(stage.image).toMatch(/^node:\d+(\.\d+)*-[\w-]*slim$/);
    const buildRuns = all("RUN", build?.instructions).map((run) => run.body);
    expect(buildRuns).toEqual(["npm ci --no-audit --no-fund", "npm run build"]);
  });

  it("installs production dependencies only and copies just the build output", () => {
    const runs = all("RUN").map((run) => run.body);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^npm ci --omit=dev\b/);
    const copies = all("COPY").map((copy) => [copy.flags.from, copy.body]);
    expect(copies).toEqual([
      [undefined, "package.json package-lock.json ./"],
      ["build", "/app/dist ./dist"],
    ]);
  });

  it("runs node on the build output as a non-root user with NODE_ENV=production", () => {
    const env = Object.assign({}, ...all("ENV").map((instruction) => envOf(instruction.body)));
    expect(env.NODE_ENV).toBe("production");
    const users = all("USER").map((user) => user.body);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    const user = runtime?.instructions.findIndex((instruction) => instruction.keyword === "USER");
    const cmd = runtime?.instructions.findIndex((instruction) => instruction.keyword === "CMD");
    expect(user).toBeLessThan(cmd ?? -1);
    // Not `npm start`: its prestart runs tsc, which the production install does not have.
    expect(execForm(all("CMD")[0]?.body ?? "")).toEqual(["node", "dist/src/main.js"]);
  });

  it("exposes the port the service listens on and has a node HEALTHCHECK", () => {
    const env = Object.assign({}, ...all("ENV").map((instruction) => envOf(instruction.body)));
    const config = loadConfig({ ...env, APP_ID: "0".repeat(32), APP_CERTIFICATE: "1".repeat(32) });
    expect(all("EXPOSE").map((expose) => expose.body)).toEqual([String(config.port)]);
    const [healthcheck] = all("HEALTHCHECK");
    const command = execForm(healthcheck?.body ?? "");
    // What it asks and where: test/deploy/healthcheck.test.ts.
    expect(command[0]).toBe("node");
    expect(healthcheck?.flags).toMatchObject({ interval: expect.any(String) });
  });

  it("never bakes credentials or a .env file into an image", () => {
    for (const stage of stages) {
      for (const instruction of [
        ...all("ARG", stage.instructions),
        ...all("ENV", stage.instructions),
      ]) {
        expect(instruction.body).not.toMatch(/APP_ID|APP_CERTIFICATE|SECRET|TOKEN|KEY/i);
      }
    }
    // Each COPY names what it takes: never the whole context, never a .env file.
    for (const stage of stages) {
      for (const copy of all("COPY", stage.instructions)) {
        const sources = copy.body.split(/\s+/).slice(0, -1);
        expect(sources).not.toContain(".");
        for (const source of sources) expect(source).not.toMatch(/(^|\/)\.env/);
      }
    }
    const ignored = readFileSync(resolve(root, ".dockerignore"), "utf8").split("\n");
    expect(ignored).toEqual(
      expect.arrayContaining([".env", ".env.*", "**/node_modules", "dist", ".git"]),
    );
  });
});
