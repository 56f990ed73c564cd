import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenClient } from "../src/client/create-token-client.js";
import { decodeToken, privilegesFor, SAMPLE } from "./support/decode-token.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const root = resolve(import.meta.dirname, "..");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

describe("examples/grpc-js-client.ts", () => {
  it("prints the token and its expiry in RFC 3339, as the Connect JSON answer does", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", resolve(root, "examples/grpc-js-client.ts"), `127.0.0.1:${server.port}`],
      { cwd: root },
    );
    const printed = JSON.parse(stdout) as { token: string; expiresAt: string };
    expect(printed.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const token = decodeToken(printed.token);
    expect(token.signatureValid).toBe(true);
    expect(Date.parse(printed.expiresAt) / 1000).toBe(token.issuedAt + 3600);
    expect(token.services).toEqual([
      {
        type: 1,
        channel: "my-video-channel",
        uid: "user123",
        privileges: privilegesFor([1, 2, 3, 4], 3600),
      },
    ]);
  });
});

describe.each(["embed-express.ts", "embed-fastify.ts"])("examples/%s", (example) => {
  it("serves tokens over Connect, gRPC-Web and the legacy route beside the app's own route", async () => {
    const apiKey = "example-key-0123456789";
    const child = spawn(process.execPath, ["--import", "tsx", resolve(root, "examples", example)], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        APP_ID: SAMPLE.appId,
        APP_CERTIFICATE: SAMPLE.appCertificate,
        TOKEN_API_KEY: apiKey,
        PORT: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      const port = await new Promise<number>((resolvePort, reject) => {
        child.stdout.on("data", (chunk) => {
          output += chunk;
          const match = /"msg":"listening","port":(\d+)/.exec(output);
          if (match) resolvePort(Number(match[1]));
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const baseUrl = `http://127.0.0.1:${port}`;
      for (const protocol of ["connect", "grpc-web"] as const) {
        const client = createTokenClient({ baseUrl, protocol, apiKey });
        const { token } = await client.getToken({
          request: { case: "rtm", value: { uid: "ann" } },
        });
        expect(decodeToken(token).services).toEqual([
          { type: 2, userId: "ann", privileges: privilegesFor([1], 3600) },
        ]);
      }
      const legacy = await fetch(`${baseUrl}/getToken`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
        body: JSON.stringify({ tokenType: "rtc", channel: "lobby", role: "publisher", uid: "5" }),
      });
      const { token } = (await legacy.json()) as { token: string };
      expect(decodeToken(token).services).toEqual([
        { type: 1, channel: "lobby", uid: "5", privileges: privilegesFor([1, 2, 3, 4], 3600) },
      ]);
      const unauthenticated = await fetch(`${baseUrl}/rtm/ann`);
      expect(unauthenticated.status).toBe(401);
      const room = await fetch(`${baseUrl}/rooms`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "blue" }),
      });
      expect({ status: room.status, body: await room.json() }).toEqual({
        status: 201,
        body: { room: "blue" },
      });
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    }
  }, 30_000);
});
