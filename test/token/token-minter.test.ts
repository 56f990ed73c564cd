import { describe, expect, it } from "vitest";
import { createTokenMinter, type MintResult } from "../../src/token/token-minter.js";
import type { TokenRequest } from "../../src/token/token-request.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import { withoutShownCharacters } from "../support/shown-characters.js";

// Fixed vectors from agora-token's test/AccessToken2Test.js: issued at 1111111, salt 1, 600 s.
const VECTOR_TIME_MS = 1_111_111_000;
const vectors = {
  rtcUid2882341273Join:
    "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj",
  rtcAnyUserJoin:
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo=",
  chatUser2882341273:
    "007eJxTYNAIsnbS3v/A5t2TC6feR15r+6cq8bqAvfaW+tk/Vzz+p6xTYLA0N3B2NDZNSTUzSDYxMTMxTUpKTLVINDI0NTAzTDI2dv8iwBDBxMDAyADCrAyMDIxgPheDkYWFkbGJoZG5MQAfpR64",
  chatApp:
    "007eJxTYNDNaz3snC8huEfHWdz6s98qltq4zqy9fl99Uh0FDvy6F6DAYGlu4OxobJqSamaQbGJiZmKalJSYapFoZGhqYGaYZGzs/kWAIYKJgYGRAYRZGRgZmMB8BgYArfIYaw==",
};
const VECTOR_CHANNEL = "7d72365eb983485397e3e3f9d460bdda";

function fixedMinter() {
  return createTokenMinter({ credentials: SAMPLE, clock: () => VECTOR_TIME_MS, salt: () => 1 });
}

function mintOk(
  request: TokenRequest,
  now = 1_700_000_000_000,
): Extract<MintResult, { kind: "ok" }> {
  const result = createTokenMinter({ credentials: SAMPLE, clock: () => now }).mint(request);
  if (result.kind !== "ok") throw new Error(`expected a token, got ${JSON.stringify(result)}`);
  return result;
}

function violationOf(request: TokenRequest) {
  const result = createTokenMinter({ credentials: SAMPLE }).mint(request);
  if (result.kind !== "invalid")
    throw new Error(`expected a violation for ${JSON.stringify(request)}`);
  return result.violation;
}

const rtc = (over: Partial<Extract<TokenRequest, { kind: "rtc" }>> = {}): TokenRequest => ({
  kind: "rtc",
  channel: "room-1",
  uid: "alice",
  role: "publisher",
  expireSeconds: 600,
  ...over,
});
const rtm = (over: Partial<Extract<TokenRequest, { kind: "rtm" }>> = {}): TokenRequest => ({
  kind: "rtm",
  uid: "alice",
  channel: "",
  expireSeconds: 600,
  ...over,
});
const chat = (over: Partial<Extract<TokenRequest, { kind: "chat" }>> = {}): TokenRequest => ({
  kind: "chat",
  uid: "alice",
  expireSeconds: 600,
  ...over,
});

const rtcRtm = (over: Partial<Extract<TokenRequest, { kind: "rtc_rtm" }>> = {}): TokenRequest => ({
  kind: "rtc_rtm",
  channel: "room-1",
  uid: "alice",
  role: "publisher",
  expireSeconds: 600,
  rtmUserId: "",
  rtmExpireSeconds: 0,
  ...over,
});
const agent = (over: Partial<Extract<TokenRequest, { kind: "agent" }>> = {}): TokenRequest => ({
  kind: "agent",
  agentKind: "conversational_ai",
  rtcRtm: {
    channel: "room-1",
    uid: "1001",
    role: "publisher",
    expireSeconds: 600,
    rtmUserId: "",
    rtmExpireSeconds: 0,
  },
  ...over,
});
const lifetimes = { joinChannel: 0, publishAudio: 0, publishVideo: 0, publishData: 0 };

describe("createTokenMinter()", () => {
  describe("reproduces agora-token's fixed vectors byte for byte", () => {
    it("RTC subscriber with a numeric uid", () => {
      const result = fixedMinter().mint(
        rtc({ channel: VECTOR_CHANNEL, uid: "2882341273", role: "subscriber" }),
      );
      expect(result).toMatchObject({ kind: "ok", token: vectors.rtcUid2882341273Join });
    });

    it('RTC subscriber for any user ("0" encodes as agora-token encodes uid 0)', () => {
      const result = fixedMinter().mint(
        rtc({ channel: VECTOR_CHANNEL, uid: "0", role: "subscriber" }),
      );
      expect(result).toMatchObject({ kind: "ok", token: vectors.rtcAnyUserJoin });
    });

    it("Chat user token", () => {
      expect(fixedMinter().mint(chat({ uid: "2882341273" }))).toMatchObject({
        token: vectors.chatUser2882341273,
      });
    });

    it("Chat app token when no uid is given", () => {
      expect(fixedMinter().mint(chat({ uid: "" }))).toMatchObject({ token: vectors.chatApp });
    });
  });

  it("grants a publisher join, audio, video and data, each for the token's lifetime", () => {
    const { token, issuedAt, expiresAt } = mintOk(rtc({ expireSeconds: 900 }));
    const decoded = decodeToken(token);
    expect(decoded).toMatchObject({
      appId: SAMPLE.appId,
      signatureValid: true,
      expireSeconds: 900,
    });
    expect(decoded.issuedAt).toBe(1_700_000_000);
    expect(issuedAt).toBe(1_700_000_000);
    expect(expiresAt).toBe(1_700_000_900);
    expect(decoded.services).toEqual([
      { type: 1, channel: "room-1", uid: "alice", privileges: privilegesFor([1, 2, 3, 4], 900) },
    ]);
  });

  it("grants a subscriber join only", () => {
    const decoded = decodeToken(mintOk(rtc({ role: "subscriber" })).token);
    expect(decoded.services).toEqual([
      { type: 1, channel: "room-1", uid: "alice", privileges: privilegesFor([1], 600) },
    ]);
  });

  it('keeps "4294967296" as that account instead of wrapping it to uid 0', () => {
    const decoded = decodeToken(mintOk(rtc({ uid: "4294967296" })).token);
    expect(decoded.services[0]?.uid).toBe("4294967296");
  });

  it("uses 3600 seconds when expire is 0", () => {
    const result = mintOk(rtc({ expireSeconds: 0 }), 2_000_000_000_000);
    expect(decodeToken(result.token).expireSeconds).toBe(3600);
    expect(decodeToken(result.token).services[0]?.privileges).toEqual(
      privilegesFor([1, 2, 3, 4], 3600),
    );
    expect(result.expiresAt - result.issuedAt).toBe(3600);
  });

  it("mints an RTM login token", () => {
    const decoded = decodeToken(mintOk(rtm()).token);
    expect(decoded.services).toEqual([
      { type: 2, userId: "alice", privileges: privilegesFor([1], 600) },
    ]);
  });

  it("adds an RTC join and publish-data service for an RTM stream channel", () => {
    for (const channel of ["stream-7", "*"]) {
      const decoded = decodeToken(mintOk(rtm({ channel })).token);
      expect(decoded.services).toEqual([
        { type: 1, channel, uid: "alice", privileges: privilegesFor([1, 4], 600) },
        { type: 2, userId: "alice", privileges: privilegesFor([1], 600) },
      ]);
    }
  });

  it("mints Chat user and app tokens", () => {
    expect(decodeToken(mintOk(chat()).token).services).toEqual([
      { type: 5, userId: "alice", privileges: privilegesFor([1], 600) },
    ]);
    expect(decodeToken(mintOk(chat({ uid: "" })).token).services).toEqual([
      { type: 5, userId: "", privileges: privilegesFor([2], 600) },
    ]);
  });

  it("accepts every character of Agora's set and the longest names", () => {
    const everyChar = "aZ09 !#$%&()+-:;<=.>?@[]^_{}|~,";
    expect(
      decodeToken(mintOk(rtc({ channel: everyChar, uid: everyChar })).token).services[0],
    ).toMatchObject({
      channel: everyChar,
      uid: everyChar,
    });
    expect(mintOk(rtc({ channel: "c".repeat(64), uid: "u".repeat(255) })).kind).toBe("ok");
    expect(mintOk(rtm({ uid: "u".repeat(64) })).kind).toBe("ok");
    expect(mintOk(chat({ uid: "a".repeat(64) })).kind).toBe("ok");
    expect(mintOk(rtc({ expireSeconds: 86_400 })).kind).toBe("ok");
    expect(mintOk(rtc({ expireSeconds: 1 })).kind).toBe("ok");
  });

  describe("refuses input that breaks a rule, naming the field and the rule", () => {
    const cases: [string, TokenRequest, string, RegExp][] = [
      ["an empty channel", rtc({ channel: "" }), "channel", /is required/],
      ["a 65-byte channel", rtc({ channel: "c".repeat(65) }), "channel", /at most 64 bytes/],
      ["a 64 KiB channel", rtc({ channel: "c".repeat(65_536) }), "channel", /at most 64 bytes/],
      [
        "a slash in the channel",
        rtc({ channel: "a/b" }),
        "channel",
        /character "\/" \(Unicode 002F\) which is not in Agora's character set/,
      ],
      ["a non-ASCII channel", rtc({ channel: "café" }), "channel", /"é" \(Unicode 00E9\)/],
      ["a NUL in the channel", rtc({ channel: "a\u0000" }), "channel", /Unicode 0000 \(null\)/],
      ["an empty uid", rtc({ uid: "" }), "uid", /is required/],
      ["a 256-byte account", rtc({ uid: "u".repeat(256) }), "uid", /at most 255 bytes/],
      ["a quote in the account", rtc({ uid: 'a"b' }), "uid", /'"' \(Unicode 0022\)/],
      ["a missing role", rtc({ role: undefined }), "role", /publisher or subscriber/],
      ["expire over 24 hours", rtc({ expireSeconds: 86_401 }), "expire_seconds", /at most 86400/],
      ["a negative expire", rtc({ expireSeconds: -1 }), "expire_seconds", /negative/],
      ["a fractional expire", rtc({ expireSeconds: 1.5 }), "expire_seconds", /whole number/],
      ["an empty RTM uid", rtm({ uid: "" }), "uid", /is required/],
      ["a 65-byte RTM uid", rtm({ uid: "u".repeat(65) }), "uid", /at most 64 bytes/],
      ["an RTM uid starting with a space", rtm({ uid: " bob" }), "uid", /start with a space/],
      ['RTM uid "0"', rtm({ uid: "0" }), "uid", /"0" is not a user/],
      ["a bad RTM stream channel", rtm({ channel: "a*b" }), "channel", /"\*" \(Unicode 002A\)/],
      ["a Chat uid with a space", chat({ uid: "a b" }), "uid", /Unicode 0020 \(space\)/],
      ["a 65-character Chat uid", chat({ uid: "a".repeat(65) }), "uid", /at most 64 characters/],
      ["Chat expire over 24 hours", chat({ expireSeconds: 100_000 }), "expire_seconds", /86400/],
      [
        "privileges longer than the token",
        rtc({ privilegeExpireSeconds: 601 }),
        "privilege_expire_seconds",
        /at most the token's lifetime of 600 seconds/,
      ],
      [
        "privileges longer than the default token",
        rtc({ expireSeconds: 0, privilegeExpireSeconds: 3601 }),
        "privilege_expire_seconds",
        /lifetime of 3600 seconds/,
      ],
      [
        "both privilege_expire_seconds and privilege_expiry",
        rtc({ privilegeExpireSeconds: 60, privilegeExpiry: lifetimes }),
        "privilege_expiry",
        /not be set together with privilege_expire_seconds/,
      ],
      [
        "one privilege longer than the token",
        rtc({ privilegeExpiry: { ...lifetimes, publishData: 900 } }),
        "privilege_expiry.publish_data_stream_seconds",
        /at most the token's lifetime of 600 seconds/,
      ],
      [
        "a publish lifetime for a subscriber",
        rtc({ role: "subscriber", privilegeExpiry: { ...lifetimes, publishAudio: 60 } }),
        "privilege_expiry.publish_audio_seconds",
        /must be 0 for a subscriber/,
      ],
      ["an rtc_rtm without a role", rtcRtm({ role: undefined }), "role", /publisher or subscriber/],
      ['rtc_rtm uid "0" without an RTM user', rtcRtm({ uid: "0" }), "rtm_user_id", /is required/],
      ['rtc_rtm RTM user "0"', rtcRtm({ rtmUserId: "0" }), "rtm_user_id", /"0" is not a user/],
      [
        "an rtc_rtm uid that cannot be the RTM user",
        rtcRtm({ uid: " alice" }),
        "uid",
        /as the RTM user \(rtm_user_id is empty\) must not start with a space/,
      ],
      [
        "an RTM login longer than the token",
        rtcRtm({ rtmExpireSeconds: 601 }),
        "rtm_expire_seconds",
        /at most the token's lifetime/,
      ],
      ["an agent without a kind", agent({ agentKind: undefined }), "kind", /is required/],
      ["an agent without its identity", agent({ rtcRtm: undefined }), "rtc_rtm", /is required/],
      [
        "an agent with a bad channel",
        agent({
          rtcRtm: {
            channel: "",
            uid: "7",
            role: "publisher",
            expireSeconds: 0,
            rtmUserId: "",
            rtmExpireSeconds: 0,
          },
        }),
        "rtc_rtm.channel",
        /is required/,
      ],
    ];
    it.each(cases)("%s", (_name, request, field, rule) => {
      const violation = violationOf(request);
      expect(violation.kind).toBe(request.kind);
      expect(violation.field).toBe(field);
      expect(violation.rule).toMatch(rule);
      // gRPC clients decode these characters inconsistently, so messages contain them only as
      // the character a request had, with its code point beside it.
      expect(withoutShownCharacters(violation.rule)).not.toMatch(/[;/?:@&=+$,#]/);
    });
  });

  it("never writes a privilege lifetime of 0: each one is resolved to the token's", () => {
    const minted = mintOk(
      rtcRtm({
        role: "subscriber",
        expireSeconds: 0,
        privilegeExpiry: lifetimes,
        rtmUserId: "bob",
      }),
    );
    expect(decodeToken(minted.token).services).toEqual([
      { type: 1, channel: "room-1", uid: "alice", privileges: { 1: 3600 } },
      { type: 2, userId: "bob", privileges: { 1: 3600 } },
    ]);
    expect(minted.privilegesExpireAt).toBe(minted.expiresAt);
  });

  it("adds the agent's service without privileges after RTC and RTM", () => {
    for (const [agentKind, type] of [
      ["conversational_ai", 9],
      ["speech_to_text", 10],
    ] as const) {
      const minted = mintOk(agent({ agentKind }));
      expect(decodeToken(minted.token).services).toEqual([
        { type: 1, channel: "room-1", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 600) },
        { type: 2, userId: "1001", privileges: { 1: 600 } },
        { type, privileges: {} },
      ]);
    }
  });

  it("refuses to start with credentials agora-token would silently not sign with", () => {
    for (const credentials of [
      { appId: `${SAMPLE.appId}\n`, appCertificate: SAMPLE.appCertificate },
      { appId: SAMPLE.appId, appCertificate: "" },
      { appId: SAMPLE.appId, appCertificate: "z".repeat(32) },
    ]) {
      expect(() => createTokenMinter({ credentials })).toThrow(/32 hexadecimal characters/);
    }
  });

  it("signs with a fresh random salt per token by default", () => {
    const minter = createTokenMinter({ credentials: SAMPLE, clock: () => VECTOR_TIME_MS });
    const salts = new Set(
      Array.from({ length: 20 }, () => {
        const result = minter.mint(rtc());
        return result.kind === "ok" ? decodeToken(result.token).salt : 0;
      }),
    );
    expect(salts.size).toBeGreaterThan(15);
    for (const salt of salts) expect(salt).toBeGreaterThanOrEqual(1);
  });
});
