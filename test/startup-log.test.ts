import { describe, expect, it } from "vitest";
import { startApp } from "./support/app-server.js";

describe("the start-up log", () => {
  it("shows the JWT settings in force, hiding only a password in the JWKS URL", async () => {
    const server = await startApp({
      API_KEYS: "web:web-key-9f8e7d6c5b4a3928",
      JWT_JWKS_URL: "http://jwks-reader:s3cret-pass@127.0.0.1:9/.well-known/jwks.json",
      JWT_ISSUER: "https://id.example.test/",
      JWT_AUDIENCE: "agora-tokens, agora-tokens-staging",
      JWT_UID_CLAIM: "agora_uid",
      JWT_ALGORITHMS: "ES256",
    });
    try {
      const line = server.logLines().find((entry) => entry.msg === "callers must authenticate");
      expect(line).toMatchObject({
        level: "info",
        apiKeys: ["web"],
        jwtSettings: {
          keys: "http://[redacted]@127.0.0.1:9/.well-known/jwks.json",
          issuer: "https://id.example.test/",
          audiences: ["agora-tokens", "agora-tokens-staging"],
          algorithms: ["ES256"],
          uidClaim: "agora_uid",
          channelsClaim: null,
          adminClaim: null,
          clockToleranceSeconds: 30,
        },
      });
      expect(server.logText()).not.toContain("s3cret-pass");
      expect(server.logText()).not.toContain("web-key-9f8e7d6c5b4a3928");
    } finally {
      await server.close();
    }
  });
});
