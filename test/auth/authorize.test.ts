import { describe, expect, it } from "vitest";
import { authorize } from "../../src/auth/authorize.js";
import type { Caller } from "../../src/auth/caller.js";
import { matchesChannelGlob } from "../../src/auth/channel-glob.js";
import type { TokenRequest } from "../../src/token/token-request.js";

const alice = (overrides: Partial<Extract<Caller, { kind: "user" }>> = {}): Caller => ({
  kind: "user",
  subject: "alice",
  uid: "alice",
  channels: undefined,
  admin: false,
  ...overrides,
});
const rtc = (uid: string, channel = "room"): TokenRequest => ({
  kind: "rtc",
  channel,
  uid,
  role: "publisher",
  expireSeconds: 0,
});
const rtm = (uid: string, channel = ""): TokenRequest => ({
  kind: "rtm",
  uid,
  channel,
  expireSeconds: 0,
});
const chat = (uid: string): TokenRequest => ({ kind: "chat", uid, expireSeconds: 0 });
const identity = (uid: string, rtmUserId = "", channel = "room") => ({
  channel,
  uid,
  role: "publisher" as const,
  expireSeconds: 0,
  rtmUserId,
  rtmExpireSeconds: 0,
});
const rtcRtm = (uid: string, rtmUserId = "", channel = "room"): TokenRequest => ({
  kind: "rtc_rtm",
  ...identity(uid, rtmUserId, channel),
});
const agent = (uid: string, channel = "room"): TokenRequest => ({
  kind: "agent",
  agentKind: "conversational_ai",
  rtcRtm: identity(uid, "", channel),
});

describe("authorize()", () => {
  it("lets API-key services and open-mode callers mint anything", () => {
    for (const caller of [
      { kind: "service", name: "backend" },
      { kind: "anonymous", address: "127.0.0.1" },
    ] satisfies Caller[]) {
      for (const request of [
        rtc("0"),
        rtc("bob"),
        rtm("bob", "*"),
        chat(""),
        rtcRtm("0", "bob"),
        agent("bot"),
      ]) {
        expect(authorize(caller, request)).toEqual({ kind: "allow" });
      }
    }
  });

  it("lets an end user mint for their own uid only", () => {
    expect(authorize(alice(), rtc("alice"))).toEqual({ kind: "allow" });
    expect(authorize(alice(), rtm("alice"))).toEqual({ kind: "allow" });
    expect(authorize(alice(), chat("alice"))).toEqual({ kind: "allow" });
    expect(authorize(alice(), rtc("bob"))).toEqual({
      kind: "deny",
      violation: { kind: "rtc", field: "uid", rule: "must be the uid of the JWT's own user" },
    });
    expect(authorize(alice(), rtm("bob"))).toMatchObject({
      kind: "deny",
      violation: { kind: "rtm", field: "uid" },
    });
    expect(authorize(alice(), chat("bob"))).toMatchObject({
      kind: "deny",
      violation: { kind: "chat", field: "uid" },
    });
    // Exact comparison: no case folding, no trimming.
    expect(authorize(alice(), rtc("Alice")).kind).toBe("deny");
    expect(authorize(alice(), rtc("alice ")).kind).toBe("deny");
  });

  it("refuses uid 0 and Chat app tokens to end users without the admin claim", () => {
    expect(authorize(alice(), rtc("0"))).toEqual({
      kind: "deny",
      violation: {
        kind: "rtc",
        field: "uid",
        rule: "0 means any user and needs the admin claim in the JWT",
      },
    });
    // Even a user whose own uid is "0".
    expect(authorize(alice({ uid: "0" }), rtc("0")).kind).toBe("deny");
    expect(authorize(alice(), chat(""))).toMatchObject({
      kind: "deny",
      violation: { kind: "chat", field: "uid" },
    });
  });

  it("lets the admin claim unlock uid 0 and Chat app tokens, and nothing else", () => {
    const admin = alice({ admin: true });
    expect(authorize(admin, rtc("0"))).toEqual({ kind: "allow" });
    expect(authorize(admin, chat(""))).toEqual({ kind: "allow" });
    expect(authorize(admin, rtc("bob")).kind).toBe("deny");
    expect(authorize(alice({ admin: true, channels: ["lobby"] }), rtc("0", "room")).kind).toBe(
      "deny",
    );
  });

  it("checks the RTC channel and the RTM stream channel against the channels claim", () => {
    const limited = alice({ channels: ["team-*", "lobby"] });
    expect(authorize(limited, rtc("alice", "lobby"))).toEqual({ kind: "allow" });
    expect(authorize(limited, rtc("alice", "team-red"))).toEqual({ kind: "allow" });
    expect(authorize(limited, rtc("alice", "lobby2"))).toEqual({
      kind: "deny",
      violation: {
        kind: "rtc",
        field: "channel",
        rule: "is not among the channels the JWT allows",
      },
    });
    expect(authorize(limited, rtm("alice", "team-blue"))).toEqual({ kind: "allow" });
    expect(authorize(limited, rtm("alice", "other"))).toMatchObject({
      kind: "deny",
      violation: { kind: "rtm", field: "channel" },
    });
    // No stream channel asks for no channel; "*" (every channel) needs a glob that covers it.
    expect(authorize(limited, rtm("alice", ""))).toEqual({ kind: "allow" });
    expect(authorize(limited, rtm("alice", "*")).kind).toBe("deny");
    expect(authorize(alice({ channels: ["*"] }), rtm("alice", "*"))).toEqual({ kind: "allow" });
    // A configured claim that lists nothing allows no channel.
    expect(authorize(alice({ channels: [] }), rtc("alice", "lobby")).kind).toBe("deny");
  });

  it("lets an end user mint an RTC + RTM token only when both users are their own", () => {
    expect(authorize(alice(), rtcRtm("alice"))).toEqual({ kind: "allow" });
    expect(authorize(alice(), rtcRtm("alice", "alice"))).toEqual({ kind: "allow" });
    expect(authorize(alice(), rtcRtm("bob"))).toEqual({
      kind: "deny",
      violation: { kind: "rtc_rtm", field: "uid", rule: "must be the uid of the JWT's own user" },
    });
    expect(authorize(alice(), rtcRtm("alice", "bob"))).toEqual({
      kind: "deny",
      violation: {
        kind: "rtc_rtm",
        field: "rtm_user_id",
        rule: "must be the uid of the JWT's own user",
      },
    });
    expect(authorize(alice(), rtcRtm("0", "alice"))).toEqual({
      kind: "deny",
      violation: {
        kind: "rtc_rtm",
        field: "uid",
        rule: "0 means any user and needs the admin claim in the JWT",
      },
    });
    // The admin claim unlocks RTC uid 0, not another RTM user.
    const admin = alice({ admin: true });
    expect(authorize(admin, rtcRtm("0", "alice"))).toEqual({ kind: "allow" });
    expect(authorize(admin, rtcRtm("0", "bob")).kind).toBe("deny");
    const limited = alice({ channels: ["team-*"] });
    expect(authorize(limited, rtcRtm("alice", "", "team-red"))).toEqual({ kind: "allow" });
    expect(authorize(limited, rtcRtm("alice", "", "lobby"))).toEqual({
      kind: "deny",
      violation: {
        kind: "rtc_rtm",
        field: "channel",
        rule: "is not among the channels the JWT allows",
      },
    });
  });

  it("lets only an end user with the admin claim mint an agent's token, in an allowed channel", () => {
    expect(authorize(alice(), agent("alice"))).toEqual({
      kind: "deny",
      violation: {
        kind: "agent",
        field: "request",
        rule: "tokens need the admin claim in the JWT since agents are started by backends",
      },
    });
    // The agent is not the user: its uid is its own.
    expect(authorize(alice({ admin: true }), agent("bot-7"))).toEqual({ kind: "allow" });
    const limitedAdmin = alice({ admin: true, channels: ["team-*"] });
    expect(authorize(limitedAdmin, agent("bot-7", "team-red"))).toEqual({ kind: "allow" });
    expect(authorize(limitedAdmin, agent("bot-7", "lobby"))).toEqual({
      kind: "deny",
      violation: {
        kind: "agent",
        field: "rtc_rtm.channel",
        rule: "is not among the channels the JWT allows",
      },
    });
  });

  it("allows privilege lifetimes, which only shorten a token", () => {
    const short: TokenRequest = {
      kind: "rtc",
      channel: "room",
      uid: "alice",
      role: "publisher",
      expireSeconds: 600,
      privilegeExpiry: { joinChannel: 600, publishAudio: 60, publishVideo: 60, publishData: 60 },
    };
    expect(authorize(alice(), short)).toEqual({ kind: "allow" });
    expect(
      authorize(alice(), { ...short, privilegeExpiry: undefined, privilegeExpireSeconds: 30 }),
    ).toEqual({ kind: "allow" });
  });
});

describe("matchesChannelGlob()", () => {
  it.each([
    ["lobby", "lobby", true],
    ["lobby", "lobby2", false],
    ["*", "anything", true],
    ["*", "", true],
    ["team-*", "team-", true],
    ["team-*", "team-red", true],
    ["team-*", "xteam-red", false],
    ["*-room", "blue-room", true],
    ["*-room", "blue-room2", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "a-b-b-c", true],
    ["a*b*c", "acb", false],
    ["ab*ba", "aba", false],
    ["room?", "room1", false],
    ["room?", "room?", true],
    ["[x]", "[x]", true],
  ])("%s matches %s: %s", (pattern, channel, expected) => {
    expect(matchesChannelGlob(pattern, channel)).toBe(expected);
  });
});
