import { Code } from "@connectrpc/connect";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { createJwtVerifier } from "../../src/auth/jwt-verifier.js";
import { createCallGuard } from "../../src/service/call-guard.js";
import { allProtocolClients, type GetTokenInit, type ProtocolClient } from "../support/clients.js";
import { expectTokenFor } from "../support/expected-token.js";
import {
  type JwksServer,
  makeSigningKey,
  signJwt,
  startJwksServer,
  type TestSigningKey,
} from "../support/jwks-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// Issue 11, "Who may ask": the JWT rules for rtc_rtm, agent and privilege lifetimes, each
// refusal and each allowed case on every protocol client (gRPC, Connect, gRPC-Web).

const ISSUER = "https://id.example.test/";
const AUDIENCE = "agora-tokens";
const API_KEY = "backend-key-5d4c3b2a19080706";
const alice = { iss: ISSUER, aud: AUDIENCE, sub: "alice", channels: ["team-*"] };
const aliceAdmin = { ...alice, agora_admin: true };

const PUBLISHER = 1;
const rtcRtm = (value: {
  uid: string;
  rtmUserId?: string;
  channel?: string;
  privilegeExpireSeconds?: number;
}): GetTokenInit => ({
  request: { case: "rtcRtm", value: { channel: "team-red", role: PUBLISHER, ...value } },
});
const agent = (uid: string, channel = "team-red"): GetTokenInit => ({
  request: {
    case: "agent",
    value: { kind: 1, rtcRtm: { channel, uid, role: PUBLISHER, rtmExpireSeconds: 600 } },
  },
});
const shortRtc: GetTokenInit = {
  request: {
    case: "rtc",
    value: {
      channel: "team-red",
      uid: "alice",
      role: PUBLISHER,
      expireSeconds: 900,
      privilegeExpiry: { publishAudioSeconds: 60, publishVideoSeconds: 60 },
    },
  },
};
const shortRtcForAll: GetTokenInit = {
  request: {
    case: "rtc",
    value: { channel: "team-red", uid: "alice", role: PUBLISHER, privilegeExpireSeconds: 120 },
  },
};

let key: TestSigningKey;
let jwks: JwksServer;
let server: TestServer;
let clients: ProtocolClient[];

beforeAll(async () => {
  key = await makeSigningKey("key-shapes", "ES256");
  jwks = await startJwksServer([key]);
  const jwt = createJwtVerifier({
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ["ES256"],
    clockToleranceSeconds: 5,
    uidClaim: "sub",
    channelsClaim: "channels",
    adminClaim: "agora_admin",
    keySource: { kind: "jwks", url: jwks.url },
    jwksCooldownMs: 0,
  });
  const apiKeys = [{ name: "backend", digest: hashApiKey(API_KEY) }];
  server = await startTestServer({
    callGuard: createCallGuard({ authenticator: createAuthenticator({ apiKeys, jwt }) }),
    trustProxy: false,
  });
  clients = allProtocolClients(server.baseUrl, server.port);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
  await jwks.close();
});

const bearer = async (claims: JWTPayload) => ({
  authorization: `Bearer ${await signJwt(key, claims)}`,
});

/** Every protocol client mints `request` with `headers`, exactly as asked. */
async function expectMinted(request: GetTokenInit, headers: Record<string, string>) {
  for (const client of clients) {
    const outcome = await client.getToken(request, headers);
    if (outcome.kind !== "ok") throw new Error(`${client.name}: ${outcome.message}`);
    expectTokenFor(outcome.response.token, request, outcome.response);
  }
}

/** Every protocol client is refused `request` with PermissionDenied and `message`. */
async function expectDenied(
  request: GetTokenInit,
  headers: Record<string, string>,
  message: string,
) {
  for (const client of clients) {
    expect(await client.getToken(request, headers), client.name).toMatchObject({
      kind: "error",
      code: Code.PermissionDenied,
      message,
    });
  }
}

describe("JWT callers asking for rtc_rtm, agent and short-lived privileges", () => {
  describe("refused with PermissionDenied on every protocol", () => {
    it("an RTC + RTM token for another RTC uid", async () => {
      await expectDenied(
        rtcRtm({ uid: "bob" }),
        await bearer(alice),
        "rtc_rtm.uid must be the uid of the JWT's own user",
      );
    });

    it("an RTC + RTM token for another RTM user", async () => {
      await expectDenied(
        rtcRtm({ uid: "alice", rtmUserId: "bob" }),
        await bearer(alice),
        "rtc_rtm.rtm_user_id must be the uid of the JWT's own user",
      );
    });

    it("an RTC + RTM token in a channel the JWT does not list", async () => {
      await expectDenied(
        rtcRtm({ uid: "alice", channel: "lobby" }),
        await bearer(alice),
        "rtc_rtm.channel is not among the channels the JWT allows",
      );
    });

    it("an RTC + RTM token for RTC uid 0 without the admin claim", async () => {
      await expectDenied(
        rtcRtm({ uid: "0", rtmUserId: "alice" }),
        await bearer(alice),
        "rtc_rtm.uid 0 means any user and needs the admin claim in the JWT",
      );
    });

    it("an RTC + RTM token for RTC uid 0 and another RTM user, even with the admin claim", async () => {
      await expectDenied(
        rtcRtm({ uid: "0", rtmUserId: "bob" }),
        await bearer(aliceAdmin),
        "rtc_rtm.rtm_user_id must be the uid of the JWT's own user",
      );
    });

    it("an agent's token without the admin claim, even for the user's own uid", async () => {
      await expectDenied(
        agent("alice"),
        await bearer(alice),
        "agent tokens need the admin claim in the JWT since agents are started by backends",
      );
    });

    it("an agent's token in a channel the JWT does not list, even with the admin claim", async () => {
      await expectDenied(
        agent("bot-7", "lobby"),
        await bearer(aliceAdmin),
        "agent.rtc_rtm.channel is not among the channels the JWT allows",
      );
    });
  });

  describe("minted on every protocol", () => {
    it("an RTC + RTM token for the JWT's own uid, with the RTM user left empty or named", async () => {
      const headers = await bearer(alice);
      await expectMinted(rtcRtm({ uid: "alice" }), headers);
      await expectMinted(rtcRtm({ uid: "alice", rtmUserId: "alice" }), headers);
    });

    it("an RTC + RTM token for RTC uid 0 and the user's own RTM user with the admin claim", async () => {
      await expectMinted(rtcRtm({ uid: "0", rtmUserId: "alice" }), await bearer(aliceAdmin));
    });

    it("privilege_expiry and privilege_expire_seconds, which only shorten a token", async () => {
      const headers = await bearer(alice);
      await expectMinted(shortRtc, headers);
      await expectMinted(shortRtcForAll, headers);
      await expectMinted(rtcRtm({ uid: "alice", privilegeExpireSeconds: 300 }), headers);
    });

    it("an agent's token with the admin claim, for the agent's own uid", async () => {
      await expectMinted(agent("bot-7"), await bearer(aliceAdmin));
    });

    it("anything for an API-key caller", async () => {
      const headers = { "x-api-key": API_KEY };
      await expectMinted(rtcRtm({ uid: "0", rtmUserId: "bob", channel: "lobby" }), headers);
      await expectMinted(agent("bot-7", "lobby"), headers);
      await expectMinted(shortRtc, headers);
    });
  });
});
