import { createPublicKey } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { exportSPKI, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { createJwtVerifier, type JwtSettings } from "../../src/auth/jwt-verifier.js";
import { createCallGuard } from "../../src/service/call-guard.js";
import { type Answer, type Asker, askerFor, chat, PROTOCOLS, rtc, rtm } from "../support/ask.js";
import { allProtocolClients, type ProtocolClient } from "../support/clients.js";
import { decodeToken } from "../support/decode-token.js";
import {
  type JwksServer,
  makeSigningKey,
  signJwt,
  startJwksServer,
  type TestSigningKey,
} from "../support/jwks-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const ISSUER = "https://id.example.test/";
const AUDIENCE = "agora-tokens";
const settings: Omit<JwtSettings, "keySource"> = {
  issuer: ISSUER,
  audiences: [AUDIENCE],
  algorithms: ["ES256", "RS256"],
  clockToleranceSeconds: 5,
  uidClaim: "sub",
  channelsClaim: "channels",
  adminClaim: "agora_admin",
};
const aliceClaims = { iss: ISSUER, aud: AUDIENCE, sub: "alice", channels: ["team-*"] };

/** A token service that verifies JWTs, with everything else as in production. */
async function startJwtServer(keySource: JwtSettings["keySource"]): Promise<TestServer> {
  const jwt = createJwtVerifier({ ...settings, keySource, jwksCooldownMs: 0 });
  return startTestServer({
    callGuard: createCallGuard({ authenticator: createAuthenticator({ apiKeys: [], jwt }) }),
    trustProxy: false,
  });
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

function expectToken(answer: Answer) {
  if (answer.code !== "ok" || answer.token === undefined) {
    throw new Error(`expected a token, got ${JSON.stringify(answer)}`);
  }
  const decoded = decodeToken(answer.token);
  expect(decoded.signatureValid).toBe(true);
  return decoded;
}

let jwks: JwksServer;
let keyA: TestSigningKey;
let server: TestServer;
let asker: Asker;

beforeAll(async () => {
  keyA = await makeSigningKey("key-a", "ES256");
  jwks = await startJwksServer([keyA]);
  server = await startJwtServer({ kind: "jwks", url: jwks.url });
  asker = askerFor(server);
});

afterAll(async () => {
  asker.close();
  await server.close();
  await jwks.close();
});

describe("JWT callers (keys from a JWKS URL)", () => {
  describe.each(PROTOCOLS)("over %s", (protocol) => {
    const ask = (...args: Parameters<Asker["ask"]>) => asker.ask(...args);

    it("mints an RTC token for the JWT's own uid in an allowed channel", async () => {
      const jwt = await signJwt(keyA, aliceClaims);
      const decoded = expectToken(await ask(protocol, rtc("alice", "team-red"), bearer(jwt)));
      expect(decoded.services).toMatchObject([{ type: 1, channel: "team-red", uid: "alice" }]);
      expectToken(await ask(protocol, rtm("alice", "team-blue"), bearer(jwt)));
      const chatToken = expectToken(await ask(protocol, chat("alice"), bearer(jwt)));
      expect(chatToken.services).toEqual([{ type: 5, userId: "alice", privileges: { 1: 3600 } }]);
    });

    it("refuses an expired JWT with Unauthenticated", async () => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await signJwt(keyA, { ...aliceClaims, iat: now - 3600, exp: now - 60 });
      expect(await ask(protocol, rtc("alice"), bearer(jwt))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT has expired",
      });
    });

    it("refuses a JWT from another issuer or for another audience", async () => {
      const otherIssuer = await signJwt(keyA, { ...aliceClaims, iss: "https://evil.test/" });
      expect(await ask(protocol, rtc("alice"), bearer(otherIssuer))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT issuer is not the trusted one",
      });
      const otherAudience = await signJwt(keyA, { ...aliceClaims, aud: "another-service" });
      expect(await ask(protocol, rtc("alice"), bearer(otherAudience))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT audience is not this service",
      });
    });

    it("refuses an unknown kid, then accepts it once the provider has rotated it in", async () => {
      const rotated = await makeSigningKey(`rotated-${protocol}`, "RS256");
      const jwt = await signJwt(rotated, aliceClaims);
      expect(await ask(protocol, rtc("alice"), bearer(jwt))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT signing key is unknown",
      });
      const fetchesBefore = jwks.fetches();
      jwks.publish([keyA, rotated]);
      expectToken(await ask(protocol, rtc("alice"), bearer(jwt)));
      expect(jwks.fetches()).toBe(fetchesBefore + 1);
      // Known keys are served from the cache.
      expectToken(await ask(protocol, rtc("alice"), bearer(await signJwt(keyA, aliceClaims))));
      expect(jwks.fetches()).toBe(fetchesBefore + 1);
    });

    it("refuses alg none and an HS256 JWT keyed with the public key", async () => {
      const unsigned = new UnsecuredJWT(aliceClaims).setExpirationTime("10m").encode();
      expect(await ask(protocol, rtc("alice"), bearer(unsigned))).toMatchObject({
        code: Code.Unauthenticated,
      });
      const confused = await new SignJWT(aliceClaims)
        .setProtectedHeader({ alg: "HS256", kid: keyA.kid })
        .setExpirationTime("10m")
        .sign(new TextEncoder().encode(await exportSPKI(keyA.publicKey)));
      expect(await ask(protocol, rtc("alice"), bearer(confused))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT algorithm is not allowed",
      });
    });

    it("refuses a token for another uid with PermissionDenied", async () => {
      const jwt = await signJwt(keyA, aliceClaims);
      for (const request of [rtc("bob"), rtm("bob"), chat("bob")]) {
        const answer = await ask(protocol, request, bearer(jwt));
        expect(answer.code).toBe(Code.PermissionDenied);
        expect(answer.message).toMatch(/uid must be the uid of the JWT's own user$/);
      }
    });

    it("refuses a channel outside the channels claim, for RTC and the RTM stream channel", async () => {
      const jwt = await signJwt(keyA, aliceClaims);
      for (const request of [rtc("alice", "lobby"), rtm("alice", "lobby"), rtm("alice", "*")]) {
        const answer = await ask(protocol, request, bearer(jwt));
        expect(answer.code).toBe(Code.PermissionDenied);
        expect(answer.message).toMatch(/channel is not among the channels the JWT allows$/);
      }
    });

    it("refuses uid 0 and a Chat app token to an end user without the admin claim", async () => {
      const jwt = await signJwt(keyA, { ...aliceClaims, agora_admin: "true" });
      const wildcard = await ask(protocol, rtc("0"), bearer(jwt));
      expect(wildcard.code).toBe(Code.PermissionDenied);
      expect(wildcard.message).toMatch(/uid 0 means any user and needs the admin claim/);
      const app = await ask(protocol, chat(""), bearer(jwt));
      expect(app.code).toBe(Code.PermissionDenied);
      expect(app.message).toMatch(/Chat app token needs the admin claim/);
    });

    it("mints uid 0 and Chat app tokens when the admin claim is true", async () => {
      const jwt = await signJwt(keyA, { ...aliceClaims, agora_admin: true });
      const wildcard = expectToken(await ask(protocol, rtc("0"), bearer(jwt)));
      expect(wildcard.services).toMatchObject([{ type: 1, channel: "team-red", uid: "" }]);
      const app = expectToken(await ask(protocol, chat(""), bearer(jwt)));
      expect(app.services).toEqual([{ type: 5, userId: "", privileges: { 2: 3600 } }]);
    });

    it("refuses a call without credentials or with a bearer that is no JWT", async () => {
      expect(await ask(protocol, rtc("alice"))).toMatchObject({
        code: Code.Unauthenticated,
        message: "no credentials. Send a JWT as Authorization Bearer",
      });
      expect(await ask(protocol, rtc("alice"), bearer("not-a-jwt"))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the Bearer credential is not a JWT",
      });
      expect(
        await ask(protocol, rtc("alice"), { authorization: "Basic YWxpY2U6eA==" }),
      ).toMatchObject({ code: Code.Unauthenticated });
    });
  });

  describe("on every protocol client", () => {
    let clients: ProtocolClient[];
    beforeAll(() => {
      clients = allProtocolClients(server.baseUrl, server.port);
    });
    afterAll(() => {
      for (const client of clients) client.close();
    });

    it("gives alice her RTC token and refuses her one for bob or for uid 0", async () => {
      const headers = bearer(await signJwt(keyA, aliceClaims));
      for (const client of clients) {
        const own = await client.getToken(rtc("alice"), headers);
        expect(own.kind, client.name).toBe("ok");
        for (const uid of ["bob", "0"]) {
          const other = await client.getToken(rtc(uid), headers);
          expect(other, `${client.name} ${uid}`).toMatchObject({ code: Code.PermissionDenied });
        }
      }
    });
  });

  describe("legacy GET routes", () => {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${server.baseUrl}${path}`, { headers });
      return { status: response.status, headers: response.headers, json: await response.json() };
    };

    it("apply the same rules as POST /getToken", async () => {
      const headers = bearer(await signJwt(keyA, aliceClaims));
      const allowed = [
        "/rtc/team-red/publisher/userAccount/alice/",
        "/rtm/alice/",
        "/rte/team-red/subscriber/userAccount/alice/",
        "/chat/account/alice/",
      ];
      for (const path of allowed) expect((await get(path, headers)).status, path).toBe(200);
      const refused: [string, string][] = [
        ["/rtc/team-red/publisher/userAccount/bob/", "uid must be the uid of the JWT's own user"],
        [
          "/rtc/team-red/publisher/uid/0/",
          "uid 0 means any user and needs the admin claim in the JWT",
        ],
        [
          "/rtc/lobby/publisher/userAccount/alice/",
          "channel is not among the channels the JWT allows",
        ],
        ["/rtm/bob/", "uid must be the uid of the JWT's own user"],
        [
          "/rte/team-red/subscriber/userAccount/alice/bob/",
          "rtmuid must be the uid of the JWT's own user",
        ],
        ["/chat/app/", "uid is required since a Chat app token needs the admin claim in the JWT"],
        ["/chat/account/bob/", "chatid must be the uid of the JWT's own user"],
      ];
      for (const [path, error] of refused) {
        expect(await get(path, headers), path).toMatchObject({ status: 403, json: { error } });
      }
    });

    it("answer 401 with WWW-Authenticate without credentials, and leave /ping open", async () => {
      const anonymous = await get("/rtm/alice/");
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await get("/ping")).toMatchObject({ status: 200, json: { message: "pong" } });
    });
  });

  it("answers Connect calls with HTTP 401 and 403", async () => {
    const url = `${server.baseUrl}/agora.token.v1.TokenService/GetToken`;
    const post = (headers: Record<string, string>, uid: string) =>
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify({ rtc: { channel: "team-red", uid, role: "RTC_ROLE_PUBLISHER" } }),
      });
    const anonymous = await post({}, "alice");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });
    const forbidden = await post(bearer(await signJwt(keyA, aliceClaims)), "bob");
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      code: "permission_denied",
      message: "rtc.uid must be the uid of the JWT's own user",
    });
  });
});

describe("JWT callers (a static public key)", () => {
  let keyS: TestSigningKey;
  let staticServer: TestServer;
  let staticAsker: Asker;

  beforeAll(async () => {
    keyS = await makeSigningKey("static", "RS256");
    const pem = await exportSPKI(keyS.publicKey);
    staticServer = await startJwtServer({ kind: "public-key", key: createPublicKey(pem) });
    staticAsker = askerFor(staticServer);
  });
  afterAll(async () => {
    staticAsker.close();
    await staticServer.close();
  });

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it("accepts a JWT signed by the key and refuses none and HS256 keyed with the PEM", async () => {
      const ask = staticAsker.ask;
      expectToken(await ask(protocol, rtc("alice"), bearer(await signJwt(keyS, aliceClaims))));
      const pem = await exportSPKI(keyS.publicKey);
      const confused = await new SignJWT(aliceClaims)
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("10m")
        .sign(new TextEncoder().encode(pem));
      expect(await ask(protocol, rtc("alice"), bearer(confused))).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT algorithm is not allowed",
      });
      const unsigned = new UnsecuredJWT(aliceClaims).setExpirationTime("10m").encode();
      expect((await ask(protocol, rtc("alice"), bearer(unsigned))).code).toBe(Code.Unauthenticated);
      // Signed by another key of the right type: the signature does not verify.
      const stranger = await makeSigningKey("static", "RS256");
      expect(
        await ask(protocol, rtc("alice"), bearer(await signJwt(stranger, aliceClaims))),
      ).toMatchObject({
        code: Code.Unauthenticated,
        message: "the JWT signature is not valid",
      });
    });
  });
});
