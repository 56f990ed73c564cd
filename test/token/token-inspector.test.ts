import { deflateSync, inflateSync } from "node:zlib";
import { ChatTokenBuilder, RtcRole, RtcTokenBuilder, RtmTokenBuilder } from "agora-token";
import {
  AccessToken2,
  Rtm2Permissions,
  ServiceApaas,
  ServiceConvoAI,
  ServiceFCdn,
  ServiceFpa,
  ServiceRtm2,
  ServiceStreaming,
  ServiceStt,
} from "agora-token/src/AccessToken2.js";
import { describe, expect, it } from "vitest";
import { createTokenInspector, type TokenInspection } from "../../src/token/token-inspector.js";
import { createTokenMinter } from "../../src/token/token-minter.js";
import type { TokenRequest } from "../../src/token/token-request.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";

const ISSUED_AT = 1_800_000_000;
const OTHER_CERTIFICATE = "0123456789abcdef0123456789abcdef";

const inspector = createTokenInspector({ credentials: SAMPLE, clock: () => ISSUED_AT * 1000 });
const minter = createTokenMinter({ credentials: SAMPLE, clock: () => ISSUED_AT * 1000 });

function inspect(token: string, at = inspector): TokenInspection {
  const result = at.inspect(token);
  if (result.kind !== "ok") throw new Error(`not read: ${result.violation.rule}`);
  return result.inspection;
}

function mint(request: TokenRequest): string {
  const result = minter.mint(request);
  if (result.kind !== "ok") throw new Error(result.violation.rule);
  return result.token;
}

const privilege = (id: number, name: string, expireSeconds: number, issuedAt = ISSUED_AT) => ({
  id,
  name,
  expireSeconds,
  expiresAt: issuedAt + expireSeconds,
});

describe("createTokenInspector()", () => {
  it.each<[string, TokenRequest, TokenInspection["services"]]>([
    [
      "an RTC publisher token",
      { kind: "rtc", channel: "room 1", uid: "2882341273", role: "publisher", expireSeconds: 600 },
      [
        {
          type: 1,
          channel: "room 1",
          uid: "2882341273",
          userId: "",
          privileges: [
            privilege(1, "join_channel", 600),
            privilege(2, "publish_audio_stream", 600),
            privilege(3, "publish_video_stream", 600),
            privilege(4, "publish_data_stream", 600),
          ],
        },
      ],
    ],
    [
      "an RTC subscriber token for any user",
      { kind: "rtc", channel: "c", uid: "0", role: "subscriber", expireSeconds: 600 },
      [
        {
          type: 1,
          channel: "c",
          uid: "",
          userId: "",
          privileges: [privilege(1, "join_channel", 600)],
        },
      ],
    ],
    [
      "an RTM token with a stream channel",
      { kind: "rtm", uid: "alice", channel: "*", expireSeconds: 600 },
      [
        {
          type: 1,
          channel: "*",
          uid: "alice",
          userId: "",
          privileges: [privilege(1, "join_channel", 600), privilege(4, "publish_data_stream", 600)],
        },
        {
          type: 2,
          channel: "",
          uid: "",
          userId: "alice",
          privileges: [privilege(1, "login", 600)],
        },
      ],
    ],
    [
      "a Chat user token",
      { kind: "chat", uid: "bob", expireSeconds: 600 },
      [{ type: 5, channel: "", uid: "", userId: "bob", privileges: [privilege(1, "user", 600)] }],
    ],
    [
      "a Chat app token",
      { kind: "chat", uid: "", expireSeconds: 600 },
      [{ type: 5, channel: "", uid: "", userId: "", privileges: [privilege(2, "app", 600)] }],
    ],
  ])("reads back %s that the minter signed", (_, request, services) => {
    const inspection = inspect(mint(request));
    expect(inspection).toMatchObject({
      appId: SAMPLE.appId,
      appIdMatches: true,
      issuedAt: ISSUED_AT,
      expireSeconds: 600,
      expiresAt: ISSUED_AT + 600,
      expired: false,
      signatureValid: true,
      servicesIncomplete: false,
    });
    expect(inspection.services).toEqual(services);
  });

  it("reads tokens built by agora-token's own builders, privileges with their own expiry", () => {
    const now = Math.floor(Date.now() / 1000);
    const rtc = RtcTokenBuilder.buildTokenWithUserAccount(
      SAMPLE.appId,
      SAMPLE.appCertificate,
      "ch",
      "acct",
      RtcRole.PUBLISHER,
      3600,
      60,
    );
    const rtcInspection = inspect(rtc);
    expect(Math.abs(rtcInspection.issuedAt - now)).toBeLessThan(5);
    expect(rtcInspection.expiresAt).toBe(rtcInspection.issuedAt + 3600);
    expect(rtcInspection.signatureValid).toBe(true);
    // The privileges end after 60 s, long before the token.
    expect(rtcInspection.services[0]?.privileges.map((p) => p.expiresAt - p.expireSeconds)).toEqual(
      [
        rtcInspection.issuedAt,
        rtcInspection.issuedAt,
        rtcInspection.issuedAt,
        rtcInspection.issuedAt,
      ],
    );
    expect(rtcInspection.services[0]?.privileges.map((p) => p.expireSeconds)).toEqual([
      60, 60, 60, 60,
    ]);

    const rtm = inspect(RtmTokenBuilder.buildToken(SAMPLE.appId, SAMPLE.appCertificate, "u1", 90));
    expect(rtm.services).toMatchObject([
      { type: 2, userId: "u1", privileges: [{ name: "login" }] },
    ]);
    const chat = inspect(
      ChatTokenBuilder.buildUserToken(SAMPLE.appId, SAMPLE.appCertificate, "c1", 90),
    );
    expect(chat.services).toMatchObject([
      { type: 5, userId: "c1", privileges: [{ name: "user" }] },
    ]);
  });

  it("reads every AccessToken2 service type and agrees with agora-token's parser", () => {
    const token = new AccessToken2(SAMPLE.appId, SAMPLE.appCertificate, ISSUED_AT, 300);
    const streaming = new ServiceStreaming("live", "host");
    streaming.add_privilege(1, 100);
    const fpa = new ServiceFpa();
    fpa.add_privilege(1, 200);
    const fcdn = new ServiceFCdn("cdn", 42);
    fcdn.add_privilege(2, 300);
    const apaas = new ServiceApaas("room-uuid", "user-uuid", 2);
    apaas.add_privilege(1, 300);
    const permissions = new Rtm2Permissions();
    permissions.add(0, 1, ["general", "random"]);
    const rtm2 = new ServiceRtm2("carol", permissions);
    rtm2.add_privilege(1, 300);
    const convoAi = new ServiceConvoAI();
    convoAi.add_privilege(7, 300);
    for (const service of [streaming, fpa, fcdn, apaas, rtm2, convoAi, new ServiceStt()]) {
      token.add_service(service);
    }
    const built = token.build();
    const inspection = inspect(built);
    expect(inspection.signatureValid).toBe(true);
    expect(inspection.servicesIncomplete).toBe(false);
    expect(inspection.services).toEqual([
      {
        type: 3,
        channel: "live",
        uid: "host",
        userId: "",
        privileges: [privilege(1, "publish_mix_stream", 100)],
      },
      { type: 4, channel: "", uid: "", userId: "", privileges: [privilege(1, "login", 200)] },
      { type: 6, channel: "cdn", uid: "42", userId: "", privileges: [privilege(2, "play", 300)] },
      {
        type: 7,
        channel: "room-uuid",
        uid: "",
        userId: "user-uuid",
        privileges: [privilege(1, "room_user", 300)],
      },
      { type: 8, channel: "", uid: "", userId: "carol", privileges: [privilege(1, "login", 300)] },
      { type: 9, channel: "", uid: "", userId: "", privileges: [privilege(7, "", 300)] },
      { type: 10, channel: "", uid: "", userId: "", privileges: [] },
    ]);
    expect(decodeToken(built).services.map((service) => service.type)).toEqual(
      inspection.services.map((service) => service.type),
    );
  });

  it("says the signature is not valid for a token signed with another certificate", () => {
    const token = RtcTokenBuilder.buildTokenWithUid(
      SAMPLE.appId,
      OTHER_CERTIFICATE,
      "c",
      7,
      RtcRole.SUBSCRIBER,
      60,
      60,
    );
    expect(inspect(token)).toMatchObject({ appIdMatches: true, signatureValid: false });
    const otherApp = createTokenInspector({
      credentials: { appId: "0".repeat(32), appCertificate: OTHER_CERTIFICATE },
    });
    expect(inspect(token, otherApp)).toMatchObject({ appIdMatches: false, signatureValid: true });
  });

  it("says which certificate signed a token: the App Certificate, the secondary, or neither", () => {
    const SECONDARY = "00112233445566778899aabbccddeeff";
    const rotating = createTokenInspector({
      credentials: { ...SAMPLE, secondaryAppCertificate: SECONDARY },
    });
    const signedBy = (certificate: string) =>
      RtcTokenBuilder.buildTokenWithUid(
        SAMPLE.appId,
        certificate,
        "c",
        7,
        RtcRole.PUBLISHER,
        60,
        60,
      );
    expect(inspect(signedBy(SAMPLE.appCertificate), rotating)).toMatchObject({
      signatureValid: true,
      signedWith: "app-certificate",
    });
    expect(inspect(signedBy(SECONDARY), rotating)).toMatchObject({
      signatureValid: true,
      signedWith: "secondary-certificate",
    });
    expect(inspect(signedBy(OTHER_CERTIFICATE), rotating)).toMatchObject({
      signatureValid: false,
      signedWith: "neither",
    });
    // Without a secondary certificate, its tokens are not this service's.
    expect(inspect(signedBy(SECONDARY))).toMatchObject({
      signatureValid: false,
      signedWith: "neither",
    });
  });

  it("says the signature is not valid once a signed byte is changed", () => {
    const token = mint({ kind: "chat", uid: "bob", expireSeconds: 60 });
    const content = inflateSync(Buffer.from(token.slice(3), "base64"));
    const at = content.lastIndexOf("bob");
    content.write("eve", at);
    const tampered = `007${deflateSync(content).toString("base64")}`;
    const inspection = inspect(tampered);
    expect(inspection.services[0]?.userId).toBe("eve");
    expect(inspection.signatureValid).toBe(false);
    expect(decodeToken(tampered).signatureValid).toBe(false);
  });

  it("says a token has expired from the moment its lifetime is over", () => {
    const token = mint({ kind: "chat", uid: "bob", expireSeconds: 60 });
    const at = (seconds: number) =>
      createTokenInspector({ credentials: SAMPLE, clock: () => seconds * 1000 });
    expect(inspect(token, at(ISSUED_AT + 59.9)).expired).toBe(false);
    expect(inspect(token, at(ISSUED_AT + 60)).expired).toBe(true);
    expect(inspect(token, at(ISSUED_AT + 86_400)).expired).toBe(true);
  });

  it("returns the parser's problem for a string that is not a token", () => {
    expect(inspector.inspect("hello")).toEqual({
      kind: "invalid",
      violation: { problem: "prefix", rule: "must start with 007 (the AccessToken2 version)" },
    });
  });
});
