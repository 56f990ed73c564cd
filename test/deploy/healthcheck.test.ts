import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SAMPLE } from "../support/decode-token.js";
import { execForm, parseDockerfile } from "../support/dockerfile.js";
import { spawnService } from "../support/spawn-service.js";

const root = resolve(import.meta.dirname, "../..");
const runtime = parseDockerfile(join(root, "Dockerfile")).at(-1);
const healthcheck = execForm(
  runtime?.instructions.find((instruction) => instruction.keyword === "HEALTHCHECK")?.body ?? "",
);

// The image's working directory: the build output, and a .env file when a case writes one.
const app = mkdtempSync(join(tmpdir(), "healthcheck-"));
symlinkSync(join(root, "dist"), join(app, "dist"));
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** A port that was free a moment ago: the health check must be told the port, it cannot ask. */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, host, listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Runs the HEALTHCHECK's command as Docker would: in the working directory, with the container's environment. */
function runHealthcheck(env: Record<string, string>) {
  const [program = "", ...args] = healthcheck;
  const result = spawnSync(program, args, {
    cwd: app,
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

const credentials = {
  NODE_ENV: "production",
  APP_ID: SAMPLE.appId,
  APP_CERTIFICATE: SAMPLE.appCertificate,
};

describe("the Dockerfile's HEALTHCHECK", () => {
  it("is a node script from the build output, not an inline fetch of one fixed address", () => {
    expect(healthcheck).toEqual(["node", "dist/src/healthcheck.js"]);
  });

  // Each case: where the service listens (HOST, and the port from SERVER_PORT or PORT), as the
  // container's environment says it.
  const cases: { name: string; host: string; env: (port: number, other: number) => object }[] = [
    { name: "PORT on every IPv4 address", host: "0.0.0.0", env: (port) => ({ PORT: port }) },
    {
      name: "SERVER_PORT, which wins over PORT",
      host: "127.0.0.1",
      env: (port, other) => ({ SERVER_PORT: port, PORT: other }),
    },
    {
      name: "an empty SERVER_PORT, so PORT",
      host: "127.0.0.1",
      env: (port) => ({ SERVER_PORT: "", PORT: port }),
    },
    {
      name: "a HOST that is not 127.0.0.1 (a pod's own address, say)",
      host: "127.0.0.2",
      env: (port) => ({ SERVER_PORT: port }),
    },
    { name: "HOST ::1 (IPv6 loopback only)", host: "::1", env: (port) => ({ PORT: port }) },
    { name: "HOST :: (every address)", host: "::", env: (port) => ({ PORT: port }) },
    { name: "HOST localhost", host: "localhost", env: (port) => ({ PORT: port }) },
  ];

  for (const { name, host, env } of cases) {
    it(`passes with ${name}, and fails once the service is gone`, async () => {
      const port = await freePort(host === "localhost" ? "127.0.0.1" : host);
      const settings = Object.fromEntries(
        Object.entries({ HOST: host, ...env(port, port === 65_535 ? 65_534 : port + 1) }).map(
          ([key, value]) => [key, String(value)],
        ),
      );
      const server = await spawnService({ ...credentials, ...settings }, { cwd: app });
      expect(server.port).toBe(port);
      try {
        const check = runHealthcheck({ ...credentials, ...settings });
        expect(check, server.output()).toEqual({ status: 0, stderr: "" });
      } finally {
        server.process.kill("SIGTERM");
        await server.exited;
      }
      const after = runHealthcheck({ ...credentials, ...settings });
      expect(after.status).toBe(1);
      expect(after.stderr).toMatch(/^unhealthy: .*\/healthz failed/);
    }, 60_000);
  }

  it("reads HOST and PORT from a .env file in the working directory, as the service does", async () => {
    const port = await freePort("127.0.0.2");
    const server = await spawnService(
      { ...credentials, HOST: "127.0.0.2", PORT: String(port) },
      { cwd: app },
    );
    writeFileSync(join(app, ".env"), `HOST=127.0.0.2\nPORT=${port}\n`);
    try {
      expect(runHealthcheck(credentials)).toEqual({ status: 0, stderr: "" });
    } finally {
      rmSync(join(app, ".env"));
      server.process.kill("SIGTERM");
      await server.exited;
    }
  }, 60_000);

  it("fails with a reason when the settings cannot be served or checked", () => {
    const random = runHealthcheck({ ...credentials, PORT: "0" });
    expect(random.status).toBe(1);
    expect(random.stderr).toMatch(/^unhealthy: the port is 0/);
    const invalid = runHealthcheck({ ...credentials, APP_CERTIFICATE: "" });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/^unhealthy: invalid configuration/);
    // Whatever it says, never the certificate.
    expect(random.stderr + invalid.stderr).not.toContain(SAMPLE.appCertificate);
  });
});
