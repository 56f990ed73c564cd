import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mintWithAgoraToken } from "../../src/token/agora-token-mint.js";
import { createAccessTokenEncoder } from "../../src/token/encode-access-token.js";
import { grantFor } from "../../src/token/token-grant.js";
import type { TokenRequest } from "../../src/token/token-request.js";
import { SAMPLE } from "../support/decode-token.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);

const agoraChars = "abcXYZ019 !#$%&()+-:;<=.>?@[]^_{}|~,".split("");
const name = (max: number) =>
  fc.string({ unit: fc.constantFrom(...agoraChars), minLength: 1, maxLength: max });
const expire = fc.integer({ min: 0, max: 86_400 });

/** Random requests that pass validation, of every kind. */
const validRequest: fc.Arbitrary<TokenRequest> = fc.oneof(
  fc.record({
    kind: fc.constant("rtc" as const),
    channel: name(64),
    uid: fc.oneof(name(255), fc.constant("0"), fc.nat({ max: 0xffff_ffff }).map(String)),
    role: fc.constantFrom("publisher" as const, "subscriber" as const),
    expireSeconds: expire,
  }),
  fc.record({
    kind: fc.constant("rtm" as const),
    uid: name(64).filter((uid) => !uid.startsWith(" ") && uid !== "0"),
    channel: fc.oneof(fc.constant(""), fc.constant("*"), name(64)),
    expireSeconds: expire,
  }),
  fc.record({
    kind: fc.constant("chat" as const),
    uid: fc.oneof(fc.constant(""), fc.stringMatching(/^[a-zA-Z0-9_.-]{1,64}$/)),
    expireSeconds: expire,
  }),
);

describe("createAccessTokenEncoder()", () => {
  it("is byte-identical to agora-token's AccessToken2 for random valid requests", () => {
    const encode = createAccessTokenEncoder(SAMPLE);
    fc.assert(
      fc.property(
        validRequest,
        // agora-token replaces an issue time of 0 with the current time.
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.integer({ min: 1, max: 99_999_999 }),
        (request, issuedAt, salt) => {
          const result = grantFor(request);
          if (result.kind !== "ok")
            throw new Error(`generator made an invalid request: ${result.violation.rule}`);
          const expected = mintWithAgoraToken(result.grant, {
            credentials: SAMPLE,
            issuedAt,
            salt,
          });
          expect(encode(result.grant, issuedAt, salt)).toBe(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("matches agora-token across issue seconds that share and change the cached key", () => {
    const encode = createAccessTokenEncoder(SAMPLE);
    const result = grantFor({ kind: "chat", uid: "alice", expireSeconds: 60 });
    if (result.kind !== "ok") throw new Error("invalid");
    for (const issuedAt of [1_700_000_000, 1_700_000_000, 1_700_000_001, 1_700_000_000]) {
      for (const salt of [1, 99_999_999]) {
        expect(encode(result.grant, issuedAt, salt)).toBe(
          mintWithAgoraToken(result.grant, { credentials: SAMPLE, issuedAt, salt }),
        );
      }
    }
  });

  it("also matches for grants with services out of type order and repeated privileges", () => {
    const encode = createAccessTokenEncoder(SAMPLE);
    const lasting = (expireSeconds: number, ...ids: number[]) =>
      ids.map((id) => ({ id, expireSeconds }));
    const grant = {
      expireSeconds: 600,
      services: [
        { type: 10 as const, privileges: [] },
        { type: 5 as const, userId: "u", privileges: [...lasting(600, 2, 1), ...lasting(5, 1)] },
        { type: 1 as const, channel: "c", uid: "", privileges: lasting(30, 4, 1) },
        { type: 9 as const, privileges: lasting(7, 3) },
        { type: 2 as const, userId: "é", privileges: lasting(600, 1) },
      ],
    };
    expect(encode(grant, 1_111_111, 1)).toBe(
      mintWithAgoraToken(grant, { credentials: SAMPLE, issuedAt: 1_111_111, salt: 1 }),
    );
  });
});
