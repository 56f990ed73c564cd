import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RtcRole, TokenService } from "../gen/agora/token/v1/token_service_pb.js";
import {
  createTokenService,
  ruleViolationOf,
  type TokenServiceOptions,
} from "../src/service/create-token-service.js";
import { decodeToken, privilegesFor, SAMPLE } from "./support/decode-token.js";

function clientFor(options: Partial<TokenServiceOptions> = {}) {
  const service = createTokenService({ credentials: SAMPLE, ...options });
  return createClient(
    TokenService,
    createRouterTransport((router) => router.service(TokenService, service)),
  );
}

async function errorOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected an error");
}

describe("createTokenService()", () => {
  it("returns the token and its expiry from the injected clock", async () => {
    const client = clientFor({ clock: () => 1_800_000_000_500, salt: () => 42 });
    const response = await client.getToken({
      request: {
        case: "rtc",
        value: { channel: "c", uid: "u", role: RtcRole.SUBSCRIBER, expireSeconds: 30 },
      },
    });
    expect(response.expiresAt?.seconds).toBe(1_800_000_030n);
    // Every privilege lasts as long as the token.
    expect(response.privilegesExpireAt?.seconds).toBe(1_800_000_030n);
    const decoded = decodeToken(response.token);
    expect(decoded).toMatchObject({
      issuedAt: 1_800_000_000,
      salt: 42,
      expireSeconds: 30,
      signatureValid: true,
    });
    expect(decoded.services).toEqual([
      { type: 1, channel: "c", uid: "u", privileges: privilegesFor([1], 30) },
    ]);
  });

  it("says when the first privilege expires in privileges_expire_at", async () => {
    const client = clientFor({ clock: () => 1_800_000_000_000 });
    const rtcRtm = await client.getToken({
      request: {
        case: "rtcRtm",
        value: { channel: "c", uid: "u", role: RtcRole.PUBLISHER, rtmExpireSeconds: 900 },
      },
    });
    expect(rtcRtm.expiresAt?.seconds).toBe(1_800_003_600n);
    expect(rtcRtm.privilegesExpireAt?.seconds).toBe(1_800_000_900n);
    const rtc = await client.getToken({
      request: {
        case: "rtc",
        value: {
          channel: "c",
          uid: "u",
          role: RtcRole.PUBLISHER,
          expireSeconds: 600,
          privilegeExpiry: { publishAudioSeconds: 120 },
        },
      },
    });
    expect(rtc.expiresAt?.seconds).toBe(1_800_000_600n);
    expect(rtc.privilegesExpireAt?.seconds).toBe(1_800_000_120n);
    expect(decodeToken(rtc.token).services[0]?.privileges).toEqual({
      1: 600,
      2: 120,
      3: 600,
      4: 600,
    });
  });

  it("says a token signed with the public demo credentials is one, minted or inspected", async () => {
    const real = { appId: "0123456789abcdef0123456789abcdef", appCertificate: "f".repeat(32) };
    const demo = clientFor();
    const project = clientFor({ credentials: real });
    const request = { request: { case: "chat" as const, value: { uid: "bob" } } };
    const demoToken = await demo.getToken(request);
    const projectToken = await project.getToken(request);
    expect(demoToken.demoCredentials).toBe(true);
    expect(projectToken.demoCredentials).toBe(false);
    expect(decodeToken(projectToken.token, real.appCertificate).signatureValid).toBe(true);

    // The token says it wherever it is inspected, even by a service with other credentials.
    const cases = [
      [demo, demoToken.token, { demoCredentials: true, signatureValid: true }],
      [project, demoToken.token, { demoCredentials: true, signatureValid: false }],
      [project, projectToken.token, { demoCredentials: false, signatureValid: true }],
      [demo, projectToken.token, { demoCredentials: false, signatureValid: false }],
    ] as const;
    for (const [client, token, expected] of cases) {
      expect(await client.inspectToken({ token })).toMatchObject(expected);
    }
    // The demo App ID with another certificate's signature is not a demo token.
    const sameAppId = clientFor({ credentials: { ...SAMPLE, appCertificate: "e".repeat(32) } });
    const signedElsewhere = await sameAppId.getToken(request);
    expect(signedElsewhere.demoCredentials).toBe(false);
    expect(await demo.inspectToken({ token: signedElsewhere.token })).toMatchObject({
      appIdMatches: true,
      demoCredentials: false,
      signatureValid: false,
    });
  });

  it("refuses an empty request with InvalidArgument", async () => {
    const error = await errorOf(clientFor().getToken({}));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("request must set one of rtc or rtm or chat or rtc_rtm or agent");
  });

  it("turns a rule violation into InvalidArgument that carries the violation", async () => {
    const error = await errorOf(
      clientFor().getToken({
        request: { case: "rtc", value: { channel: "c", uid: "u", role: RtcRole.UNSPECIFIED } },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("rtc.role is required and must be publisher or subscriber");
  });

  it("hides an unexpected failure behind a generic Internal error and reports it", async () => {
    const reported: unknown[] = [];
    const client = clientFor({
      salt: () => {
        throw new Error(`boom with ${SAMPLE.appCertificate}`);
      },
      onInternalError: (error) => reported.push(error),
    });
    const error = await errorOf(client.getToken({ request: { case: "chat", value: {} } }));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error while minting the token");
    expect(error.rawMessage).not.toContain(SAMPLE.appCertificate);
    expect(reported).toHaveLength(1);
  });

  it("exposes the violation to adapters through ruleViolationOf()", async () => {
    const service = createTokenService({ credentials: SAMPLE });
    const error = await errorOf(
      Promise.resolve().then(() =>
        service.getToken(
          {
            $typeName: "agora.token.v1.GetTokenRequest",
            request: {
              case: "chat",
              value: { $typeName: "agora.token.v1.ChatTokenRequest", uid: "a b", expireSeconds: 0 },
            },
          },
          {} as never,
        ),
      ),
    );
    expect(ruleViolationOf(error)).toMatchObject({ kind: "chat", field: "uid" });
  });
});
