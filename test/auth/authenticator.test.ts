import { KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseApiKeys } from "../../src/auth/api-keys.js";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { createJwtVerifier } from "../../src/auth/jwt-verifier.js";
import { makeSigningKey, signJwt } from "../support/jwks-server.js";

const KEY_WEB = "web-key-9f8e7d6c5b4a3928";
const ISSUER = "https://id.example.test/";

async function authenticatorWithKeysAndJwts() {
  const signingKey = await makeSigningKey("k1");
  const jwt = createJwtVerifier({
    keySource: { kind: "public-key", key: KeyObject.from(signingKey.publicKey) },
    issuer: ISSUER,
    audiences: ["agora-tokens"],
    algorithms: ["ES256"],
    clockToleranceSeconds: 5,
    uidClaim: "sub",
    channelsClaim: undefined,
    adminClaim: undefined,
  });
  const { keys } = parseApiKeys([`web:${KEY_WEB}`], "API_KEYS");
  const authenticator = createAuthenticator({ apiKeys: keys, jwt });
  const aliceJwt = await signJwt(signingKey, { iss: ISSUER, aud: "agora-tokens", sub: "alice" });
  return { authenticator, aliceJwt };
}

describe("createAuthenticator() with API keys and JWTs", () => {
  it("refuses an API key and a JWT in one request: they name different callers", async () => {
    const { authenticator, aliceJwt } = await authenticatorWithKeysAndJwts();
    const alone = await authenticator.authenticate(
      { authorization: [`Bearer ${aliceJwt}`], apiKey: [] },
      "192.0.2.1",
    );
    expect(alone).toMatchObject({ kind: "ok", caller: { kind: "user", uid: "alice" } });
    expect(
      await authenticator.authenticate(
        { authorization: [`Bearer ${aliceJwt}`], apiKey: [KEY_WEB] },
        "192.0.2.1",
      ),
    ).toEqual({
      kind: "unauthenticated",
      reason: "X-API-Key and Authorization name different callers. Send one of them",
    });
  });

  it("refuses two Authorization headers even when both carry the same JWT", async () => {
    const { authenticator, aliceJwt } = await authenticatorWithKeysAndJwts();
    expect(
      await authenticator.authenticate(
        { authorization: [`Bearer ${aliceJwt}`, `Bearer ${aliceJwt}`], apiKey: [] },
        "192.0.2.1",
      ),
    ).toEqual({
      kind: "unauthenticated",
      reason: "the request has more than one Authorization header. Send one",
    });
  });

  it("reports a bad X-API-Key before looking at Authorization", async () => {
    const { authenticator, aliceJwt } = await authenticatorWithKeysAndJwts();
    expect(
      await authenticator.authenticate(
        { authorization: [`Bearer ${aliceJwt}`], apiKey: ["not-a-configured-key-000"] },
        "192.0.2.1",
      ),
    ).toEqual({ kind: "unauthenticated", reason: "the X-API-Key header is not a valid API key" });
  });
});
