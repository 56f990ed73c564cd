import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RtcRole as AgoraRole, RtcTokenBuilder } from "agora-token";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RtcRole, SignedWith, TokenService } from "../gen/agora/token/v1/token_service_pb.js";
import { decodeToken, SAMPLE } from "./support/decode-token.js";
import {
  allInspectClients,
  type InspectClient,
  postInspectToken,
} from "./support/inspect-clients.js";
import { type SpawnedService, spawnService } from "./support/spawn-service.js";

// The README's rotation runbook, step two: the new certificate is APP_CERTIFICATE, the one
// being replaced is APP_CERTIFICATE_SECONDARY.
const NEW_CERTIFICATE = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const OLD_CERTIFICATE = SAMPLE.appCertificate;
const STRANGER = "0123456789abcdef0123456789abcdef";

const signedBy = (certificate: string) =>
  RtcTokenBuilder.buildTokenWithUid(
    SAMPLE.appId,
    certificate,
    "room",
    7,
    AgoraRole.PUBLISHER,
    600,
    600,
  );

describe("certificate rotation (the real service process)", () => {
  let service: SpawnedService;
  let clients: InspectClient[];
  let baseUrl: string;

  beforeAll(async () => {
    service = await spawnService({
      APP_ID: SAMPLE.appId,
      APP_CERTIFICATE: NEW_CERTIFICATE,
      APP_CERTIFICATE_SECONDARY: OLD_CERTIFICATE,
      LOG_LEVEL: "debug",
    });
    baseUrl = `http://127.0.0.1:${service.port}`;
    clients = allInspectClients(baseUrl, service.port);
  });

  afterAll(async () => {
    for (const client of clients ?? []) client.close();
    if (service?.process.exitCode === null) service.process.kill("SIGTERM");
    await service?.exited;
  });

  it("signs new tokens with APP_CERTIFICATE only", async () => {
    const client = createClient(
      TokenService,
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    );
    const { token } = await client.getToken({
      request: { case: "chat", value: { uid: "alice" } },
    });
    expect(decodeToken(token, NEW_CERTIFICATE).signatureValid).toBe(true);
    expect(decodeToken(token, OLD_CERTIFICATE).signatureValid).toBe(false);
  });

  it("says which certificate signed a token, on every protocol", async () => {
    const client = createClient(
      TokenService,
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    );
    const { token: minted } = await client.getToken({
      request: { case: "rtc", value: { channel: "room", uid: "7", role: RtcRole.PUBLISHER } },
    });
    const cases: [string, boolean, SignedWith][] = [
      [minted, true, SignedWith.APP_CERTIFICATE],
      [signedBy(NEW_CERTIFICATE), true, SignedWith.APP_CERTIFICATE],
      [signedBy(OLD_CERTIFICATE), true, SignedWith.SECONDARY_CERTIFICATE],
      [signedBy(STRANGER), false, SignedWith.UNSPECIFIED],
    ];
    for (const inspectClient of clients) {
      for (const [token, signatureValid, signedWith] of cases) {
        expect(await inspectClient.inspectToken(token), inspectClient.name).toMatchObject({
          kind: "ok",
          response: { signatureValid, signedWith, appIdMatches: true },
        });
      }
    }
  });

  it("says it on POST /inspectToken too, by the enum's name", async () => {
    const expected: [string, string][] = [
      [signedBy(NEW_CERTIFICATE), "SIGNED_WITH_APP_CERTIFICATE"],
      [signedBy(OLD_CERTIFICATE), "SIGNED_WITH_SECONDARY_CERTIFICATE"],
      [signedBy(STRANGER), "SIGNED_WITH_UNSPECIFIED"],
    ];
    for (const [token, signedWith] of expected) {
      const { status, json } = await postInspectToken(baseUrl, { token });
      expect(status).toBe(200);
      expect(json.signedWith).toBe(signedWith);
      expect(json.signatureValid).toBe(signedWith !== "SIGNED_WITH_UNSPECIFIED");
    }
  });

  it("never writes either certificate to its output", () => {
    const output = service.output().toLowerCase();
    expect(output).toContain("listening on");
    expect(output).not.toContain(NEW_CERTIFICATE.toLowerCase());
    expect(output).not.toContain(OLD_CERTIFICATE.toLowerCase());
  });

  it.each([
    [
      "malformed",
      "00112233445566778899aabbccddeefg",
      /APP_CERTIFICATE_SECONDARY must be exactly 32 hexadecimal characters/,
    ],
    [
      "APP_CERTIFICATE again",
      NEW_CERTIFICATE,
      /APP_CERTIFICATE_SECONDARY must be the other certificate/,
    ],
  ])(
    "refuses to start with a secondary certificate that is %s, without printing it",
    async (_name, secondary, problem) => {
      const started = spawnService({
        APP_ID: SAMPLE.appId,
        APP_CERTIFICATE: NEW_CERTIFICATE,
        APP_CERTIFICATE_SECONDARY: secondary,
      });
      const error = await started.then(
        (running) => {
          running.process.kill("SIGTERM");
          return new Error("the service started");
        },
        (refused: unknown) => refused as Error,
      );
      expect(error.message).toMatch(/exited with 1/);
      expect(error.message).toMatch(problem);
      expect(error.message.toLowerCase()).not.toContain(secondary.toLowerCase());
      expect(error.message.toLowerCase()).not.toContain(NEW_CERTIFICATE.toLowerCase());
    },
  );
});
