import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allProtocolClients, type GetTokenInit, type ProtocolClient } from "../support/clients.js";
import { decodeToken } from "../support/decode-token.js";
import { expectTokenFor } from "../support/expected-token.js";
import { brokenShapeRequest, validShapeRequest } from "../support/shape-arbitraries.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const RUNS = Number(process.env.PROPERTY_RUNS_SERVER ?? 150);

let server: TestServer;
let clients: ProtocolClient[];

beforeAll(async () => {
  server = await startTestServer();
  clients = allProtocolClients(server.baseUrl, server.port);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

/** The answer of every protocol client (gRPC, Connect, gRPC-Web) to one request. */
async function askEveryClient(request: GetTokenInit) {
  return Promise.all(
    clients.map(async (client) => ({
      client: client.name,
      outcome: await client.getToken(request),
    })),
  );
}

describe("privilege lifetimes, rtc_rtm and agent tokens over Connect, gRPC and gRPC-Web", () => {
  it("mints exactly what a random valid request asks for, with privileges_expire_at", async () => {
    await fc.assert(
      fc.asyncProperty(validShapeRequest, async (request) => {
        for (const { client, outcome } of await askEveryClient(request)) {
          if (outcome.kind !== "ok") throw new Error(`${client}: ${outcome.message}`);
          expectTokenFor(outcome.response.token, request, outcome.response);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses a random request with one rule broken, naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(brokenShapeRequest, async ({ init, field }) => {
        for (const { client, outcome } of await askEveryClient(init)) {
          expect(outcome, client).toMatchObject({ kind: "error", code: Code.InvalidArgument });
          if (outcome.kind === "error") {
            expect(outcome.message.startsWith(`${field} `), `${client}: ${outcome.message}`).toBe(
              true,
            );
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    [
      "a privilege longer than the token",
      {
        case: "rtc",
        value: { channel: "c", uid: "u", role: 1, expireSeconds: 600, privilegeExpireSeconds: 601 },
      },
      "rtc.privilege_expire_seconds must be at most the token's lifetime of 600 seconds (0 means as long as the token)",
    ],
    [
      "both ways of timing privileges",
      {
        case: "rtc",
        value: { channel: "c", uid: "u", role: 1, privilegeExpireSeconds: 60, privilegeExpiry: {} },
      },
      "rtc.privilege_expiry must not be set together with privilege_expire_seconds (set one or the other)",
    ],
    [
      "a publish lifetime for a subscriber",
      {
        case: "rtc",
        value: { channel: "c", uid: "u", role: 2, privilegeExpiry: { publishVideoSeconds: 60 } },
      },
      "rtc.privilege_expiry.publish_video_seconds must be 0 for a subscriber since a subscriber has no publish privilege",
    ],
    [
      "an RTC + RTM token for any RTC user without an RTM user",
      { case: "rtcRtm", value: { channel: "c", uid: "0", role: 1 } },
      'rtc_rtm.rtm_user_id is required when uid is "0" since RTM has no "any user"',
    ],
    [
      "an RTC account too long to be the RTM user",
      { case: "rtcRtm", value: { channel: "c", uid: "a".repeat(65), role: 1 } },
      "rtc_rtm.uid as the RTM user (rtm_user_id is empty) must be at most 64 bytes long (got 65)",
    ],
    [
      "an agent without its kind",
      { case: "agent", value: { rtcRtm: { channel: "c", uid: "7", role: 1 } } },
      "agent.kind is required and must be AGENT_KIND_CONVERSATIONAL_AI or AGENT_KIND_SPEECH_TO_TEXT",
    ],
    [
      "an agent without its identity",
      { case: "agent", value: { kind: 2 } },
      "agent.rtc_rtm is required (the agent's RTC and RTM identity)",
    ],
    [
      "an agent's RTM login longer than the token",
      {
        case: "agent",
        value: {
          kind: 1,
          rtcRtm: { channel: "c", uid: "7", role: 1, expireSeconds: 60, rtmExpireSeconds: 61 },
        },
      },
      "agent.rtc_rtm.rtm_expire_seconds must be at most the token's lifetime of 60 seconds (0 means as long as the token)",
    ],
  ] as [string, NonNullable<GetTokenInit["request"]>, string][])(
    "refuses %s with the same message on every protocol",
    async (_name, request, message) => {
      for (const { client, outcome } of await askEveryClient({ request })) {
        expect(outcome, client).toMatchObject({
          kind: "error",
          code: Code.InvalidArgument,
          message,
        });
      }
    },
  );

  it("gives a co-host token whose publish privileges end before its join privilege", async () => {
    const request: GetTokenInit = {
      request: {
        case: "rtc",
        value: {
          channel: "live-42",
          uid: "2882341273",
          role: 1,
          expireSeconds: 3600,
          privilegeExpiry: {
            joinChannelSeconds: 3600,
            publishAudioSeconds: 600,
            publishVideoSeconds: 600,
            publishDataStreamSeconds: 300,
          },
        },
      },
    };
    for (const { client, outcome } of await askEveryClient(request)) {
      if (outcome.kind !== "ok") throw new Error(`${client}: ${outcome.message}`);
      const decoded = decodeToken(outcome.response.token);
      expect(decoded.services, client).toEqual([
        {
          type: 1,
          channel: "live-42",
          uid: "2882341273",
          privileges: { 1: 3600, 2: 600, 3: 600, 4: 300 },
        },
      ]);
      expect(outcome.response.privilegesExpireAt?.seconds).toBe(BigInt(decoded.issuedAt + 300));
      expect(outcome.response.expiresAt?.seconds).toBe(BigInt(decoded.issuedAt + 3600));
    }
  });
});
