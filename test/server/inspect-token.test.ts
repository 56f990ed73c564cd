import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AccessToken2, Service, ServiceRtc } from "agora-token/src/AccessToken2.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentKind,
  RtcRole,
  ServiceKind,
  SignedWith,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import type { GetTokenInit } from "../support/clients.js";
import { SAMPLE } from "../support/decode-token.js";
import {
  allInspectClients,
  type InspectClient,
  type InspectOutcome,
  postInspectToken,
} from "../support/inspect-clients.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

type TokenChoice = NonNullable<GetTokenInit["request"]>;

const OTHER_CERTIFICATE = "0123456789abcdef0123456789abcdef";

let server: TestServer;
let clients: InspectClient[];
let mint: (request: TokenChoice) => Promise<{ token: string; expiresAt: bigint }>;

beforeAll(async () => {
  server = await startTestServer();
  clients = allInspectClients(server.baseUrl, server.port);
  const tokens = createClient(
    TokenService,
    createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  );
  mint = async (request) => {
    const response = await tokens.getToken({ request });
    return { token: response.token, expiresAt: response.expiresAt?.seconds ?? 0n };
  };
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

function responseOf(outcome: InspectOutcome) {
  if (outcome.kind !== "ok") throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return outcome.response;
}

const byName = (name: string) => {
  const client = clients.find((candidate) => candidate.name === name);
  if (!client) throw new Error(name);
  return client;
};
const clientNames = allInspectClients("http://127.0.0.1:1", 1).map((client) => client.name);

/** A token agora-token signs with an issue time of our choosing. */
function agoraToken(options: {
  issuedAt: number;
  expireSeconds: number;
  certificate?: string;
  serviceType?: number;
}): string {
  const token = new AccessToken2(
    SAMPLE.appId,
    options.certificate ?? SAMPLE.appCertificate,
    options.issuedAt,
    options.expireSeconds,
  );
  const service =
    options.serviceType === undefined ? new ServiceRtc("c", "7") : new Service(options.serviceType);
  service.add_privilege(1, options.expireSeconds);
  token.add_service(service);
  return token.build();
}

describe("InspectToken on every protocol", () => {
  describe.each(clientNames)("%s", (name) => {
    it("reads back every kind of token GetToken mints", async () => {
      const cases: [TokenChoice, object[]][] = [
        [
          {
            case: "rtc",
            value: { channel: "room", uid: "42", role: RtcRole.PUBLISHER, expireSeconds: 600 },
          },
          [
            {
              kind: ServiceKind.RTC,
              channel: "room",
              uid: "42",
              privileges: [
                "join_channel",
                "publish_audio_stream",
                "publish_video_stream",
                "publish_data_stream",
              ],
            },
          ],
        ],
        [
          { case: "rtm", value: { uid: "alice", channel: "s1" } },
          [
            {
              kind: ServiceKind.RTC,
              channel: "s1",
              uid: "alice",
              privileges: ["join_channel", "publish_data_stream"],
            },
            { kind: ServiceKind.RTM, userId: "alice", privileges: ["login"] },
          ],
        ],
        [
          { case: "chat", value: { uid: "bob" } },
          [{ kind: ServiceKind.CHAT, userId: "bob", privileges: ["user"] }],
        ],
        [
          { case: "chat", value: {} },
          [{ kind: ServiceKind.CHAT, userId: "", privileges: ["app"] }],
        ],
      ];
      for (const [request, services] of cases) {
        const minted = await mint(request);
        const response = responseOf(await byName(name).inspectToken(minted.token));
        expect(response).toMatchObject({
          appId: SAMPLE.appId,
          appIdMatches: true,
          expired: false,
          signatureValid: true,
          signedWith: SignedWith.APP_CERTIFICATE,
          servicesIncomplete: false,
        });
        expect(response.expiresAt?.seconds).toBe(minted.expiresAt);
        const issuedAt = response.issuedAt?.seconds ?? 0n;
        expect(issuedAt + BigInt(response.expireSeconds)).toBe(minted.expiresAt);
        expect(
          response.services.map((service) => ({
            kind: service.kind,
            ...(service.channel && { channel: service.channel }),
            ...(service.uid && { uid: service.uid }),
            ...(service.kind !== ServiceKind.RTC && { userId: service.userId }),
            privileges: service.privileges.map((privilege) => {
              // Each privilege lasts exactly as long as the token.
              expect(privilege.expiresAt?.seconds).toBe(minted.expiresAt);
              return privilege.name;
            }),
          })),
        ).toEqual(services);
      }
    });

    it("reads back rtc_rtm and agent tokens with each privilege's own lifetime", async () => {
      const identity = {
        channel: "room",
        uid: "1001",
        role: RtcRole.PUBLISHER,
        expireSeconds: 900,
        privilegeExpiry: { publishAudioSeconds: 300, publishVideoSeconds: 300 },
        rtmUserId: "agent-1001",
        rtmExpireSeconds: 600,
      };
      const rtcPrivileges = [
        ["join_channel", 900],
        ["publish_audio_stream", 300],
        ["publish_video_stream", 300],
        ["publish_data_stream", 900],
      ];
      const cases: [TokenChoice, object[]][] = [
        [
          { case: "rtcRtm", value: identity },
          [
            { kind: ServiceKind.RTC, channel: "room", uid: "1001", privileges: rtcPrivileges },
            { kind: ServiceKind.RTM, userId: "agent-1001", privileges: [["login", 600]] },
          ],
        ],
        [
          { case: "agent", value: { kind: AgentKind.SPEECH_TO_TEXT, rtcRtm: identity } },
          [
            { kind: ServiceKind.RTC, channel: "room", uid: "1001", privileges: rtcPrivileges },
            { kind: ServiceKind.RTM, userId: "agent-1001", privileges: [["login", 600]] },
            { kind: ServiceKind.STT, privileges: [] },
          ],
        ],
      ];
      for (const [request, services] of cases) {
        const minted = await mint(request);
        const response = responseOf(await byName(name).inspectToken(minted.token));
        expect(response).toMatchObject({ signatureValid: true, expireSeconds: 900 });
        const issuedAt = response.issuedAt?.seconds ?? 0n;
        expect(
          response.services.map((service) => ({
            kind: service.kind,
            ...(service.channel && { channel: service.channel }),
            ...(service.uid && { uid: service.uid }),
            ...(service.userId && { userId: service.userId }),
            privileges: service.privileges.map((privilege) => {
              expect(privilege.expiresAt?.seconds).toBe(issuedAt + BigInt(privilege.expireSeconds));
              return [privilege.name, privilege.expireSeconds];
            }),
          })),
        ).toEqual(services);
      }
    });

    it("says when a token is expired or signed with another certificate", async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = responseOf(
        await byName(name).inspectToken(agoraToken({ issuedAt: now - 7200, expireSeconds: 60 })),
      );
      expect(expired).toMatchObject({ expired: true, signatureValid: true });
      expect(expired.expiresAt?.seconds).toBe(BigInt(now - 7200 + 60));
      const foreign = responseOf(
        await byName(name).inspectToken(
          agoraToken({ issuedAt: now, expireSeconds: 60, certificate: OTHER_CERTIFICATE }),
        ),
      );
      expect(foreign).toMatchObject({
        expired: false,
        signatureValid: false,
        signedWith: SignedWith.UNSPECIFIED,
        appIdMatches: true,
      });
    });

    it("reports a service type it does not know by its number", async () => {
      const now = Math.floor(Date.now() / 1000);
      const response = responseOf(
        await byName(name).inspectToken(
          agoraToken({ issuedAt: now, expireSeconds: 60, serviceType: 42 }),
        ),
      );
      expect(response.services).toHaveLength(1);
      expect(response.services[0]?.kind).toBe(42);
      expect(response.services[0]?.privileges[0]).toMatchObject({ id: 1, name: "" });
    });

    it.each([
      ["", "token is required"],
      ["Bearer 007abc", "token must start with 007 (the AccessToken2 version)"],
      ["007abc%3D", 'token has the character "%" (Unicode 0025) at position 7 which is not base64'],
      ["007AAAAAAAA", "token is not zlib-compressed data after its base64 decoding"],
      ["007eJxjZQAAAAwABg==", "token is truncated (it ends inside the signature)"],
    ])("refuses %j with InvalidArgument saying what is wrong", async (token, message) => {
      const outcome = await byName(name).inspectToken(token);
      expect(outcome).toMatchObject({ kind: "error", code: Code.InvalidArgument });
      if (outcome.kind === "error") expect(outcome.message.startsWith(message)).toBe(true);
    });
  });

  it("never answers a fuzzed string with anything but a reading or InvalidArgument", async () => {
    const grpcJs = byName("grpc (@grpc/grpc-js)");
    const grpcWeb = byName("grpc-web http/1.1");
    const connect = byName("connect json http/1.1");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.string({ unit: "binary", maxLength: 200 }).map((tail) => `007${tail}`),
          fc.base64String({ maxLength: 200 }).map((tail) => `007eJ${tail}`),
        ),
        async (token) => {
          for (const client of [grpcJs, grpcWeb, connect]) {
            const outcome = await client.inspectToken(token);
            if (outcome.kind === "error") expect(outcome.code).toBe(Code.InvalidArgument);
          }
          const legacy = await postInspectToken(server.baseUrl, { token });
          expect([200, 400]).toContain(legacy.status);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("legacy POST /inspectToken", () => {
  it("answers the same fields as JSON, every one present", async () => {
    const minted = await mint({ case: "chat", value: { uid: "bob", expireSeconds: 120 } });
    const { status, json } = await postInspectToken(server.baseUrl, { token: minted.token });
    expect(status).toBe(200);
    const expiresAt = new Date(Number(minted.expiresAt) * 1000).toISOString().replace(".000", "");
    expect(json).toEqual({
      appId: SAMPLE.appId,
      appIdMatches: true,
      issuedAt: new Date((Number(minted.expiresAt) - 120) * 1000).toISOString().replace(".000", ""),
      expiresAt,
      expired: false,
      signatureValid: true,
      signedWith: "SIGNED_WITH_APP_CERTIFICATE",
      demoCredentials: true,
      services: [
        {
          kind: "SERVICE_KIND_CHAT",
          channel: "",
          uid: "",
          userId: "bob",
          privileges: [{ name: "user", id: 1, expiresAt, expireSeconds: 120 }],
        },
      ],
      expireSeconds: 120,
      salt: expect.any(Number),
      servicesIncomplete: false,
    });
  });

  it.each([
    [{ token: "nope" }, "token must start with 007 (the AccessToken2 version)"],
    [{}, "token is required"],
    [{ token: null }, "token is required"],
    [{ token: 7 }, "token must be a string"],
    [
      '{"token":"a","TOKEN":"b"}',
      'body has the keys "token" and "TOKEN", which differ only in letter case. Send one of them',
    ],
    ["[]", "body must be a JSON object"],
  ])("answers 400 with a JSON error for %j", async (body, error) => {
    const { status, json } = await postInspectToken(server.baseUrl, body);
    expect(status).toBe(400);
    expect(json).toEqual({ error });
  });

  it("answers 413 for a body over the limit and 405 for another method", async () => {
    const large = await postInspectToken(server.baseUrl, { token: "x".repeat(30_000) });
    expect(large).toEqual({ status: 413, json: { error: "body must be at most 20480 bytes" } });
    const get = await fetch(`${server.baseUrl}/inspectToken`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
