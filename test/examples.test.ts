import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeToken, privilegesFor } from "./support/decode-token.js";
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
