import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postLegacy } from "./support/clients.js";
import { decodeToken } from "./support/decode-token.js";
import { spawnService } from "./support/spawn-service.js";

const APP_ID = "0123456789abcdef0123456789abcdef";
const APP_CERTIFICATE = "fedcba9876543210fedcba9876543210";
const dir = mkdtempSync(join(tmpdir(), "dotenv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a .env file in the working directory, as the Go service read it", () => {
  it("supplies the credentials, and real environment variables win over it", async () => {
    writeFileSync(
      join(dir, ".env"),
      `APP_ID=${APP_ID}\nAPP_CERTIFICATE=${APP_CERTIFICATE}\nCORS_ALLOW_ORIGIN=https://from-dotenv.example\n`,
    );
    const service = await spawnService(
      { CORS_ALLOW_ORIGIN: "https://from-env.example" },
      { cwd: dir },
    );
    try {
      const { json } = await postLegacy(`http://127.0.0.1:${service.port}`, { tokenType: "chat" });
      const decoded = decodeToken(String(json.token), APP_CERTIFICATE);
      expect(decoded).toMatchObject({ appId: APP_ID, signatureValid: true });
      expect(service.output()).not.toContain("DEMO credentials");
      expect(service.output()).not.toContain(APP_CERTIFICATE);

      const fromEnv = await fetch(`http://127.0.0.1:${service.port}/ping`, {
        headers: { Origin: "https://from-env.example" },
      });
      expect(fromEnv.headers.get("access-control-allow-origin")).toBe("https://from-env.example");
    } finally {
      service.process.kill("SIGTERM");
      await service.exited;
    }
  });
});
