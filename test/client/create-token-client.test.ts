import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenClient } from "../../src/client/create-token-client.js";
import * as nodeEntry from "../../src/client/index.js";
import { AgentKind, RtcRole, SignedWith } from "../../src/client/index.js";
import { createTokenClient as createWebTokenClient } from "../../src/web/create-token-client.js";
import * as webEntry from "../../src/web/index.js";
import type { GetTokenInit } from "../support/clients.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { expectTokenFor } from "../support/expected-token.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** What the server saw on each call: the protocol's content type and the credential headers. */
const seen: { contentType: string | null; apiKey: string | null; authorization: string | null }[] =
  [];
const recordHeaders: Interceptor = (next) => (request) => {
  seen.push({
    contentType: request.header.get("content-type"),
    apiKey: request.header.get("x-api-key"),
    authorization: request.header.get("authorization"),
  });
  return next(request);
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ interceptors: [recordHeaders] });
});
afterAll(() => server.close());

const clients = [
  ["node connect", (o: object) => createTokenClient({ ...base(), ...o, protocol: "connect" })],
  ["node connect http/2", (o: object) => createTokenClient({ ...base(), ...o, httpVersion: "2" })],
  ["node grpc", (o: object) => createTokenClient({ ...base(), ...o, protocol: "grpc" })],
  ["node grpc-web", (o: object) => createTokenClient({ ...base(), ...o, protocol: "grpc-web" })],
  ["web connect", (o: object) => createWebTokenClient({ ...base(), ...o, protocol: "connect" })],
  ["web grpc-web", (o: object) => createWebTokenClient({ ...base(), ...o, protocol: "grpc-web" })],
] as const;

function base() {
  return { baseUrl: server.baseUrl };
}

describe("createTokenClient() from ./client and ./web", () => {
  it.each(clients)("%s gets and inspects a token", async (_, create) => {
    const client = create({});
    const { token } = await client.getToken({ request: { case: "chat", value: { uid: "bob" } } });
    expect(decodeToken(token)).toMatchObject({ appId: SAMPLE.appId, signatureValid: true });
    const inspection = await client.inspectToken({ token });
    expect(inspection.services[0]?.userId).toBe("bob");
  });

  it.each(clients)(
    "%s mints rtc_rtm and agent tokens and reads their lifetimes",
    async (_, create) => {
      const client = create({});
      const identity = {
        channel: "room",
        uid: "1001",
        role: RtcRole.PUBLISHER,
        expireSeconds: 900,
        privilegeExpireSeconds: 600,
        rtmUserId: "agent-1001",
      };
      const rtcRtm: GetTokenInit = { request: { case: "rtcRtm", value: identity } };
      const agent: GetTokenInit = {
        request: { case: "agent", value: { kind: AgentKind.CONVERSATIONAL_AI, rtcRtm: identity } },
      };
      for (const request of [rtcRtm, agent]) {
        const response = await client.getToken(request);
        expectTokenFor(response.token, request, response);
        const inspection = await client.inspectToken({ token: response.token });
        expect(inspection.signedWith).toBe(SignedWith.APP_CERTIFICATE);
        expect(
          inspection.services[0]?.privileges.map((privilege) => privilege.expireSeconds),
        ).toEqual([600, 600, 600, 600]);
      }
    },
  );

  it.each(clients)("%s sends the API key or the JWT with every call", async (_, create) => {
    for (const [auth, expected] of [
      [{ apiKey: "key-123" }, { apiKey: "key-123", authorization: null }],
      [{ jwt: "aaa.bbb.ccc" }, { apiKey: null, authorization: "Bearer aaa.bbb.ccc" }],
      [{}, { apiKey: null, authorization: null }],
    ] as const) {
      seen.length = 0;
      const client = create(auth);
      await client.getToken({ request: { case: "chat", value: {} } });
      await client.inspectToken({ token: "007" }).catch(() => {});
      expect(seen).toEqual([expect.objectContaining(expected), expect.objectContaining(expected)]);
    }
  });

  it.each(clients)("%s refuses an API key and a JWT together when created", (_, create) => {
    seen.length = 0;
    expect(() => create({ apiKey: "key-123", jwt: "aaa.bbb.ccc" })).toThrow(
      /^give apiKey or jwt, not both: the service refuses a call that carries two credentials$/,
    );
    expect(seen).toEqual([]);
  });

  it.each([
    ["./client", nodeEntry],
    ["./web", webEntry],
  ] as const)(
    "%s exports ConnectError, Code and the response's times as Dates",
    async (_, entry) => {
      const client = entry.createTokenClient({ baseUrl: server.baseUrl });
      const response = await client.getToken({
        request: {
          case: "rtc",
          value: {
            channel: "c",
            uid: "7",
            role: entry.RtcRole.PUBLISHER,
            privilegeExpireSeconds: 60,
          },
        },
      });
      const issuedAt = decodeToken(response.token).issuedAt;
      expect(entry.expiryDates(response)).toEqual({
        expiresAt: new Date((issuedAt + 3600) * 1000),
        privilegesExpireAt: new Date((issuedAt + 60) * 1000),
      });
      expect(entry.timestampDate(response.expiresAt as never)).toEqual(
        new Date((issuedAt + 3600) * 1000),
      );
      const refused = await client
        .getToken({ request: { case: "rtc", value: { channel: "c", uid: "7" } } })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(entry.ConnectError);
      expect((refused as InstanceType<typeof entry.ConnectError>).code).toBe(
        entry.Code.InvalidArgument,
      );
      expect(() => entry.expiryDates({ ...response, expiresAt: undefined })).toThrow(
        /^the GetToken response has no expiresAt or privilegesExpireAt$/,
      );
    },
  );

  it("speaks the protocol it was asked for", async () => {
    seen.length = 0;
    for (const [, create] of clients)
      await create({}).getToken({ request: { case: "chat", value: {} } });
    expect(seen.map((call) => call.contentType)).toEqual([
      "application/proto",
      "application/proto",
      "application/grpc+proto",
      "application/grpc-web+proto",
      "application/json",
      "application/grpc-web+proto",
    ]);
  });

  it.each([
    [
      { baseUrl: "localhost:8080" },
      /^baseUrl must be an http or https URL starting with http:\/\/ or https:\/\/ \(got "localhost:8080"\)$/,
    ],
    [{ baseUrl: "not a url" }, /^baseUrl must be an absolute http or https URL/],
    [{ baseUrl: "http://x", apiKey: "" }, /^apiKey must be non-empty visible ASCII/],
    [
      { baseUrl: "http://x", jwt: "a b" },
      /^jwt must be non-empty visible ASCII .*\(got 3 characters\)$/,
    ],
    [{ baseUrl: "http://x", apiKey: "k\r\nX-Evil: 1" }, /^apiKey must be/],
    [
      { baseUrl: "http://x", protocol: "http" },
      /^protocol must be "connect", "grpc" or "grpc-web"/,
    ],
  ])("refuses %j at once with a TypeError naming the option", (options, message) => {
    expect(() => createTokenClient(options as never)).toThrow(message);
  });

  it("refuses plain gRPC in the browser client", () => {
    expect(() => createWebTokenClient({ baseUrl: "http://x", protocol: "grpc" as never })).toThrow(
      /^protocol must be "connect" or "grpc-web"/,
    );
  });
});
