import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DecodedService, decodeToken, privilegesFor } from "../support/decode-token.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const PUBLISHER = [1, 2, 3, 4];
const SUBSCRIBER = [1];
const rtcService = (channel: string, uid: string, privileges: number[], seconds = 3600) => ({
  type: 1,
  channel,
  uid,
  privileges: privilegesFor(privileges, seconds),
});
const rtmService = (userId: string, seconds = 3600) => ({
  type: 2,
  userId,
  privileges: privilegesFor([1], seconds),
});
const chatService = (userId: string, privilege: number, seconds = 3600) => ({
  type: 5,
  userId,
  privileges: privilegesFor([privilege], seconds),
});

type Expected = Record<string, { expireSeconds: number; services: DecodedService[] }>;

// Every path is also tried with its trailing slash toggled.
const successes: [string, Expected][] = [
  [
    "/rtc/my-channel/publisher/uid/2882341273/",
    {
      rtcToken: {
        expireSeconds: 3600,
        services: [rtcService("my-channel", "2882341273", PUBLISHER)],
      },
    },
  ],
  [
    "/rtc/my-channel/subscriber/uid/0/?expiry=600",
    { rtcToken: { expireSeconds: 600, services: [rtcService("my-channel", "", SUBSCRIBER, 600)] } },
  ],
  [
    "/rtc/my-channel/subscriber/uid/4294967295/",
    {
      rtcToken: {
        expireSeconds: 3600,
        services: [rtcService("my-channel", "4294967295", SUBSCRIBER)],
      },
    },
  ],
  [
    "/rtc/my-channel/publisher/userAccount/4294967296/",
    {
      rtcToken: {
        expireSeconds: 3600,
        services: [rtcService("my-channel", "4294967296", PUBLISHER)],
      },
    },
  ],
  [
    "/rtc/room%201/publisher/userAccount/alice%40example.com/?expiry=86400",
    {
      rtcToken: {
        expireSeconds: 86400,
        services: [rtcService("room 1", "alice@example.com", PUBLISHER, 86400)],
      },
    },
  ],
  ["/rtm/alice/", { rtmToken: { expireSeconds: 3600, services: [rtmService("alice")] } }],
  [
    "/rtm/alice/?expiry=120",
    { rtmToken: { expireSeconds: 120, services: [rtmService("alice", 120)] } },
  ],
  [
    "/rte/my-channel/publisher/uid/42/",
    {
      rtcToken: { expireSeconds: 3600, services: [rtcService("my-channel", "42", PUBLISHER)] },
      rtmToken: { expireSeconds: 3600, services: [rtmService("42")] },
    },
  ],
  [
    "/rte/my-channel/subscriber/userAccount/alice/bob/?expiry=300",
    {
      rtcToken: {
        expireSeconds: 300,
        services: [rtcService("my-channel", "alice", SUBSCRIBER, 300)],
      },
      rtmToken: { expireSeconds: 300, services: [rtmService("bob", 300)] },
    },
  ],
  [
    "/rte/my-channel/publisher/uid/0/bob/",
    {
      rtcToken: { expireSeconds: 3600, services: [rtcService("my-channel", "", PUBLISHER)] },
      rtmToken: { expireSeconds: 3600, services: [rtmService("bob")] },
    },
  ],
  ["/chat/app/", { chatToken: { expireSeconds: 3600, services: [chatService("", 2)] } }],
  [
    "/chat/app/?expiry=60",
    { chatToken: { expireSeconds: 60, services: [chatService("", 2, 60)] } },
  ],
  [
    "/chat/account/alice_1/",
    { chatToken: { expireSeconds: 3600, services: [chatService("alice_1", 1)] } },
  ],
];

const failures: [string, RegExp][] = [
  [
    "/rtc/my-channel/publisher/uid/4294967296/",
    /^uid must be a decimal number from 0 to 4294967295/,
  ],
  ["/rtc/my-channel/publisher/uid/-1/", /^uid must be a decimal number/],
  ["/rtc/my-channel/publisher/uid/0042/", /without leading zeros/],
  ["/rtc/my-channel/publisher/uid/alice/", /^uid must be a decimal number/],
  ["/rtc/my-channel/publisher/account/1/", /^tokenType must be "uid" or "userAccount"$/],
  ["/rtc/my-channel/admin/uid/1/", /^role must be "publisher" or "subscriber"$/],
  ["/rtc/my-channel/Publisher/uid/1/", /^role must be "publisher" or "subscriber"$/],
  [`/rtc/${"c".repeat(65)}/publisher/uid/1/`, /^channel must be at most 64 bytes/],
  ["/rtc/a%2Fb/publisher/uid/1/", /^channel has the character "\/" \(Unicode 002F\)/],
  ["/rtc/my-channel/publisher/uid/1/?expiry=86401", /^expiry must be at most 86400 seconds/],
  ["/rtc/my-channel/publisher/uid/1/?expiry=-1", /^expiry must not be negative$/],
  ["/rtc/my-channel/publisher/uid/1/?expiry=4294967296", /^expiry must be at most 86400/],
  ["/rtc/my-channel/publisher/uid/1/?expiry=1h", /^expiry must be an integer/],
  ["/rtc/my-channel/publisher/uid/1/?expiry=1.5", /^expiry must be an integer/],
  ["/rtc/my-channel/publisher/uid/", /^uid must be a decimal number/],
  ["/rtc/my-channel/", /role must be|tokenType must be/],
  ["/rtm/0/", /^uid must name a user/],
  ["/rtm/", /^uid is required$/],
  ["/rtm/%20bob/", /^uid must not start with a space$/],
  ["/rtm/alice/?expiry=90000", /^expiry must be at most 86400/],
  ["/rte/my-channel/publisher/uid/0/", /^rtcuid must name a user/],
  ["/rte/my-channel/publisher/uid/4294967296/", /^rtcuid must be a decimal number/],
  ["/rte/my-channel/publisher/uid/1/0/", /^rtmuid must name a user/],
  ["/rte/my-channel/viewer/uid/1/", /^role must be/],
  ["/chat/account/", /^chatid is required$/],
  ["/chat/account/a%20b/", /^chatid has the character Unicode 0020 \(space\)/],
  ["/chat/app/?expiry=0x10", /^expiry must be an integer/],
  ["/rtc/a%ZZ/publisher/uid/1/", /invalid percent-encoding/],
];

const toggled = (path: string) => {
  const [route = "", query] = path.split("?");
  const other = route.endsWith("/") ? route.slice(0, -1) : `${route}/`;
  return query === undefined ? other : `${other}?${query}`;
};

describe("legacy GET routes", () => {
  describe.each(successes)("GET %s", (path, expected) => {
    it.each([path, toggled(path)])("%s mints the documented tokens", async (url) => {
      const response = await fetch(`${server.baseUrl}${url}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = (await response.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(Object.keys(expected).sort());
      for (const [key, { expireSeconds, services }] of Object.entries(expected)) {
        const decoded = decodeToken(String(body[key]));
        expect(decoded.signatureValid).toBe(true);
        expect(decoded.expireSeconds).toBe(expireSeconds);
        expect(decoded.services).toEqual(services);
      }
    });
  });

  describe.each(failures)("GET %s", (path, message) => {
    it.each([path, toggled(path)])("%s answers 400 with a JSON error", async (url) => {
      const response = await fetch(`${server.baseUrl}${url}`);
      expect(response.status).toBe(400);
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatch(message);
    });
  });

  it("answers 405 with Allow for POST on a GET route", async () => {
    const response = await fetch(`${server.baseUrl}/rtm/alice/`, { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
  });

  it("answers 404 for extra path segments", async () => {
    const response = await fetch(`${server.baseUrl}/rtm/alice/extra/`);
    expect(response.status).toBe(404);
  });
});
