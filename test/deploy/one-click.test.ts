import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfig } from "../../src/load-config.js";
import { SAMPLE } from "../support/decode-token.js";
import { envOf, execForm, parseDockerfile } from "../support/dockerfile.js";
import { type SpawnedService, spawnService } from "../support/spawn-service.js";

const root = resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const runtime = parseDockerfile(join(root, "Dockerfile")).at(-1);
/** What the image sets before the platform adds its own variables. */
const imageEnv: Record<string, string> = Object.assign(
  {},
  ...(runtime?.instructions ?? [])
    .filter((instruction) => instruction.keyword === "ENV")
    .map((instruction) => envOf(instruction.body)),
);
const imageCommand = execForm(
  runtime?.instructions.find((instruction) => instruction.keyword === "CMD")?.body ?? "",
);

/** Values a person would paste for each variable a deploy file asks for. */
const sampleValues: Record<string, string> = {
  APP_ID: SAMPLE.appId,
  APP_CERTIFICATE: SAMPLE.appCertificate,
  API_KEYS: `web:${"5f".repeat(16)}`,
};

interface Platform {
  name: string;
  /** The variable the platform sets to the port it routes to, and a value it uses. */
  portVariable: { name: "PORT"; value: string };
  dockerfile: string;
  /** Variables the person must fill in (no value in the file). */
  asks: string[];
  /** Variables the file sets itself. */
  sets: Record<string, string>;
  /** Undefined where the platform has no health check setting (Heroku). */
  healthPath: string | undefined;
  /** The process it runs instead of the image's CMD, if any. */
  command: string[] | undefined;
}

const railway = JSON.parse(read("railway.json"));
const render = parse(read("render.yaml"));
const herokuApp = JSON.parse(read("app.json"));
const herokuBuild = parse(read("heroku.yml"));
const [renderService] = render.services;

const platforms: Platform[] = [
  {
    name: "Railway (railway.json)",
    portVariable: { name: "PORT", value: "7411" },
    dockerfile: railway.build.builder === "DOCKERFILE" ? railway.build.dockerfilePath : "",
    // Railway's config file has no variables (a template holds them): the README's
    // `railway variables --set NAME=…` commands are what the person sets.
    asks: [...read("README.md").matchAll(/^railway variables .*$/gm)].flatMap(([line]) =>
      [...line.matchAll(/--set "?([A-Z_]+)=/g)].map(([, name]) => name ?? ""),
    ),
    sets: {},
    healthPath: railway.deploy.healthcheckPath,
    command: railway.deploy.startCommand?.split(" "),
  },
  {
    name: "Render (render.yaml)",
    portVariable: { name: "PORT", value: "10000" },
    dockerfile: renderService.runtime === "docker" ? renderService.dockerfilePath : "",
    asks: renderService.envVars
      .filter((variable: { sync?: boolean }) => variable.sync === false)
      .map((variable: { key: string }) => variable.key),
    sets: Object.fromEntries(
      renderService.envVars
        .filter((variable: { value?: string }) => variable.value !== undefined)
        .map((variable: { key: string; value: string }) => [variable.key, String(variable.value)]),
    ),
    healthPath: renderService.healthCheckPath,
    command: renderService.dockerCommand?.split(" "),
  },
  {
    name: "Heroku (app.json, heroku.yml)",
    portVariable: { name: "PORT", value: "53210" },
    dockerfile: herokuApp.stack === "container" ? herokuBuild.build.docker.web : "",
    asks: Object.entries(herokuApp.env)
      .filter(([, variable]) => (variable as { required?: boolean }).required !== false)
      .filter(([, variable]) => (variable as { value?: string }).value === undefined)
      .map(([name]) => name),
    sets: Object.fromEntries(
      Object.entries(herokuApp.env)
        .filter(([, variable]) => (variable as { value?: string }).value !== undefined)
        .map(([name, variable]) => [name, String((variable as { value: string }).value)]),
    ),
    healthPath: undefined,
    command: herokuBuild.run?.web?.split(" "),
  },
];

/** The environment a deploy starts with: the image's, the file's, the person's, the platform's. */
function deployedEnv(platform: Platform, without: string[] = []): Record<string, string> {
  const env: Record<string, string> = {
    ...imageEnv,
    ...platform.sets,
    ...Object.fromEntries(platform.asks.map((name) => [name, sampleValues[name] ?? ""])),
    [platform.portVariable.name]: platform.portVariable.value,
  };
  for (const name of without) delete env[name];
  return env;
}

let service: SpawnedService;
beforeAll(async () => {
  // The service as the image runs it, with every variable the deploy files ask for.
  service = await spawnService({ ...imageEnv, ...sampleValues, PORT: "0" });
}, 60_000);
afterAll(async () => {
  service.process.kill("SIGTERM");
  await service.exited;
});

describe("one-click deploy files", () => {
  for (const platform of platforms) {
    describe(platform.name, () => {
      it("builds the repository's Dockerfile and runs its CMD", () => {
        expect(platform.dockerfile.replace(/^\.\//, "")).toBe("Dockerfile");
        expect(existsSync(join(root, platform.dockerfile))).toBe(true);
        expect(platform.command ?? imageCommand).toEqual(imageCommand);
      });

      it("listens on the port variable the platform sets", () => {
        const config = loadConfig(deployedEnv(platform));
        expect(config.port).toBe(Number(platform.portVariable.value));
      });

      it("asks for every variable the service cannot start without, and keeps none in the file", () => {
        // The variables whose absence makes the service refuse to start, found by leaving each out.
        const everything = deployedEnv(platform);
        const required = Object.keys(everything).filter((name) => {
          try {
            loadConfig(deployedEnv(platform, [name]));
            return false;
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            return error.problems.some((problem) => problem.includes(name));
          }
        });
        expect(required.sort()).toEqual(["APP_CERTIFICATE", "APP_ID"]);
        for (const name of required) {
          expect(platform.asks, name).toContain(name);
          expect(platform.sets, name).not.toHaveProperty(name);
        }
        // Without them the image (NODE_ENV=production) refuses to start rather than sign with the
        // demo credentials.
        expect(() => loadConfig(deployedEnv(platform, required))).toThrow(ConfigError);
      });

      it("asks for API keys, so that callers must authenticate on a public URL", () => {
        const config = loadConfig(deployedEnv(platform));
        expect(config.auth.apiKeys.length).toBeGreaterThan(0);
      });

      it.skipIf(platform.healthPath === undefined)(
        "checks a health path the service answers 200 without credentials",
        async () => {
          const response = await fetch(`http://127.0.0.1:${service.port}${platform.healthPath}`);
          expect(response.status).toBe(200);
        },
      );
    });
  }

  it("gives Railway time to drain requests before it kills the old deploy", () => {
    const config = loadConfig(deployedEnv(platforms[0] as Platform, []));
    // Railway's config file sets no variables, so the service's defaults apply.
    expect(railway.deploy.drainingSeconds * 1000).toBeGreaterThan(
      config.shutdownDelayMs + config.shutdownTimeoutMs,
    );
  });
});
