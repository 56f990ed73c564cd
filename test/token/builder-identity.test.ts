import { createClient, createRouterTransport } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { createTokenService } from "../../src/service/create-token-service.js";
import { buildWithAgoraToken } from "../support/agora-builders.js";
import type { GetTokenInit } from "../support/clients.js";
import { SAMPLE } from "../support/decode-token.js";
import { expectTokenFor } from "../support/expected-token.js";
import { validAgent, validRtcRtm, validRtcWithLifetimes } from "../support/shape-arbitraries.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);

// The service with an issue time and salt the property chooses for each call.
let issuedAt = 0;
let salt = 1;
const client = createClient(
  TokenService,
  createRouterTransport((router) =>
    router.service(
      TokenService,
      createTokenService({ credentials: SAMPLE, clock: () => issuedAt * 1000, salt: () => salt }),
    ),
  ),
);

/** GetToken's token equals agora-token's builder's for every request, issue time and salt. */
async function expectByteIdentity(requests: fc.Arbitrary<GetTokenInit>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      requests,
      // agora-token replaces an issue time of 0 with the current time.
      fc.integer({ min: 1, max: 0xffff_ffff - 86_400 }),
      fc.integer({ min: 1, max: 99_999_999 }),
      async (request, chosenIssuedAt, chosenSalt) => {
        issuedAt = chosenIssuedAt;
        salt = chosenSalt;
        const response = await client.getToken(request);
        expect(response.token).toBe(buildWithAgoraToken(request, chosenIssuedAt, chosenSalt));
        expectTokenFor(response.token, request, response, chosenIssuedAt);
      },
    ),
    { numRuns: RUNS },
  );
}

describe("GetToken is byte-identical to agora-token 2.0.6's builders", () => {
  it("rtc with privilege_expire_seconds or privilege_expiry: buildTokenWithUserAccount or buildTokenWithUidAndPrivilege", async () => {
    await expectByteIdentity(validRtcWithLifetimes);
  });

  it("rtc_rtm: buildTokenWithRtm2", async () => {
    await expectByteIdentity(validRtcRtm);
  });

  it("agent: ConvoAITokenBuilder.buildToken and SttTokenBuilder.buildToken", async () => {
    await expectByteIdentity(validAgent);
  });

  it("writes RTC uid 0 as agora-token writes the number 0 in every shape", async () => {
    issuedAt = 1_800_000_000;
    salt = 42;
    const rtc = { channel: "room", uid: "0", role: 1, expireSeconds: 600, rtmUserId: "bot" };
    for (const request of [
      { request: { case: "rtc", value: { ...rtc, privilegeExpireSeconds: 60 } } },
      { request: { case: "rtcRtm", value: rtc } },
      { request: { case: "agent", value: { kind: 1, rtcRtm: rtc } } },
    ] satisfies GetTokenInit[]) {
      const { token } = await client.getToken(request);
      expect(token).toBe(buildWithAgoraToken(request, issuedAt, salt));
      expectTokenFor(token, request, undefined, issuedAt);
    }
  });
});
