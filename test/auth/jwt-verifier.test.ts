import { CompactSign, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt-verifier.js";
import {
  type JwksServer,
  makeSigningKey,
  signJwt,
  startJwksServer,
  type TestSigningKey,
} from "../support/jwks-server.js";
import { freePort } from "../support/redis-server.js";

const base = {
  issuer: "https://id.example.test/",
  audiences: ["agora-tokens"],
  algorithms: ["ES256"],
  clockToleranceSeconds: 5,
  uidClaim: "agora_uid",
  channelsClaim: "channels",
  adminClaim: "admin",
} satisfies Omit<JwtVerifierOptions, "keySource">;
const claims = { iss: base.issuer, aud: "agora-tokens" };

let key: TestSigningKey;
let jwks: JwksServer;
beforeAll(async () => {
  key = await makeSigningKey("k1");
  jwks = await startJwksServer([key]);
});
afterAll(() => jwks.close());

describe("createJwtVerifier()", () => {
  const verifier = () => createJwtVerifier({ ...base, keySource: { kind: "jwks", url: jwks.url } });

  it("reads the uid, channels and admin claims; the subject defaults to the uid", async () => {
    const jwt = await signJwt(key, {
      ...claims,
      sub: "auth0|123",
      agora_uid: 2882341273,
      channels: "team-* lobby",
      admin: true,
    });
    expect(await verifier().verify(jwt)).toEqual({
      kind: "ok",
      caller: {
        kind: "user",
        subject: "auth0|123",
        uid: "2882341273",
        channels: ["team-*", "lobby"],
        admin: true,
      },
    });
    const minimal = await signJwt(key, { ...claims, agora_uid: "alice", admin: "true" });
    expect(await verifier().verify(minimal)).toEqual({
      kind: "ok",
      caller: { kind: "user", subject: "alice", uid: "alice", channels: [], admin: false },
    });
  });

  it("refuses a JWT without a usable uid claim, a malformed channels claim or no exp", async () => {
    for (const uid of [undefined, "", -1, 1.5, true]) {
      const jwt = await signJwt(key, { ...claims, agora_uid: uid });
      expect(await verifier().verify(jwt)).toEqual({
        kind: "unauthenticated",
        reason: "the JWT has no uid claim (a string or a whole number)",
      });
    }
    // JSON.stringify writes -0 as 0, so this payload is written by hand.
    const now = Math.floor(Date.now() / 1000);
    const minusZero = await new CompactSign(
      new TextEncoder().encode(
        `{"iss":"${claims.iss}","aud":"${claims.aud}","exp":${now + 600},"agora_uid":-0}`,
      ),
    )
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
      .sign(key.privateKey);
    expect(await verifier().verify(minusZero)).toEqual({
      kind: "unauthenticated",
      reason: "the JWT has no uid claim (a string or a whole number)",
    });
    const badChannels = await signJwt(key, { ...claims, agora_uid: "a", channels: [1, 2] });
    expect(await verifier().verify(badChannels)).toEqual({
      kind: "unauthenticated",
      reason: "the JWT channels claim must be a list of strings",
    });
    const noExp = await new SignJWT({ ...claims, agora_uid: "a" })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .sign(key.privateKey);
    expect(await verifier().verify(noExp)).toEqual({
      kind: "unauthenticated",
      reason: "the JWT has no valid exp claim",
    });
  });

  it("accepts a JWT up to the clock tolerance past its exp, not beyond", async () => {
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await signJwt(key, { ...claims, agora_uid: "a", exp: now - 2 });
    expect((await verifier().verify(justExpired)).kind).toBe("ok");
    const expired = await signJwt(key, { ...claims, agora_uid: "a", exp: now - 30 });
    expect(await verifier().verify(expired)).toEqual({
      kind: "unauthenticated",
      reason: "the JWT has expired",
    });
  });

  it("reports an unreachable JWKS as unavailable, not as the caller's fault", async () => {
    const port = await freePort();
    const unreachable = createJwtVerifier({
      ...base,
      keySource: { kind: "jwks", url: new URL(`http://127.0.0.1:${port}/jwks.json`) },
    });
    expect(await unreachable.verify(await signJwt(key, { ...claims, agora_uid: "a" }))).toEqual({
      kind: "unavailable",
      reason: "the keys that verify JWTs could not be fetched",
    });
  });
});
