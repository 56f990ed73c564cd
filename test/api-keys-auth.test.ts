import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Asker, askerFor, chat, PROTOCOLS, rtc } from "./support/ask.js";
import { decodeToken } from "./support/decode-token.js";
import { type SpawnedService, spawnService } from "./support/spawn-service.js";

const KEY_WEB = "web-key-9f8e7d6c5b4a3928";
const KEY_JOBS = "jobs-key-0a1b2c3d4e5f6071";
const WRONG_KEY = "web-key-9f8e7d6c5b4a3929";

describe("API key callers (the real service process)", () => {
  let service: SpawnedService;
  let asker: Asker;

  beforeAll(async () => {
    service = await spawnService({ API_KEYS: `web:${KEY_WEB},jobs:${KEY_JOBS}` });
    asker = askerFor({ baseUrl: `http://127.0.0.1:${service.port}`, port: service.port });
  });

  afterAll(async () => {
    asker.close();
    if (service.process.exitCode === null) service.process.kill("SIGTERM");
    await service.exited;
  });

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it("lets a good key mint anything, as Bearer or X-API-Key", async () => {
      const asBearer = { authorization: `Bearer ${KEY_WEB}` };
      const wildcard = await asker.ask(protocol, rtc("0", "any-room"), asBearer);
      expect(wildcard.code).toBe("ok");
      expect(decodeToken(wildcard.token ?? "").services).toMatchObject([
        { type: 1, channel: "any-room", uid: "" },
      ]);
      const app = await asker.ask(protocol, chat(""), { "x-api-key": KEY_JOBS });
      expect(app.code).toBe("ok");
      expect(decodeToken(app.token ?? "").services).toEqual([
        { type: 5, userId: "", privileges: { 2: 3600 } },
      ]);
    });

    it("refuses a wrong key and a missing one with Unauthenticated", async () => {
      expect(
        await asker.ask(protocol, rtc("alice"), { authorization: `Bearer ${WRONG_KEY}` }),
      ).toMatchObject({ code: Code.Unauthenticated, message: "the API key is not valid" });
      expect(await asker.ask(protocol, rtc("alice"), { "x-api-key": WRONG_KEY })).toMatchObject({
        code: Code.Unauthenticated,
        message: "the X-API-Key header is not a valid API key",
      });
      expect(await asker.ask(protocol, rtc("alice"))).toMatchObject({
        code: Code.Unauthenticated,
        message: "no credentials. Send an API key as Authorization Bearer",
      });
    });
  });

  it("guards the legacy GET routes too, and leaves /ping open", async () => {
    const base = `http://127.0.0.1:${service.port}`;
    expect((await fetch(`${base}/chat/app/`)).status).toBe(401);
    expect((await fetch(`${base}/chat/app/`, { headers: { "x-api-key": KEY_WEB } })).status).toBe(
      200,
    );
    expect((await fetch(`${base}/ping`)).status).toBe(200);
  });

  it("logs refusals and key names, never a key", async () => {
    service.process.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    const log = service.output();
    expect(log).toContain('"apiKeys":["web","jobs"]');
    expect(log).toContain('"msg":"call refused: the API key is not valid"');
    for (const secret of [KEY_WEB, KEY_JOBS, WRONG_KEY]) expect(log).not.toContain(secret);
    expect(log).not.toContain("OPEN MODE");
  });
});

describe("open mode (the real service process)", () => {
  it("warns loudly at start-up and serves callers without credentials", async () => {
    const service = await spawnService();
    try {
      expect(service.output()).toMatch(/"level":"warn".*OPEN MODE/);
      const asker = askerFor({ baseUrl: `http://127.0.0.1:${service.port}`, port: service.port });
      expect((await asker.ask("legacy", chat(""))).code).toBe("ok");
      asker.close();
    } finally {
      service.process.kill("SIGTERM");
      await service.exited;
    }
  });
});
