import { Code, type ServiceImpl } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { createServer } from "../../src/server/create-server.js";
import { allProtocolClients, postLegacy } from "../support/clients.js";
import { SAMPLE } from "../support/decode-token.js";
import { startTestServer } from "../support/test-server.js";

const CHAT_APP = { request: { case: "chat" as const, value: {} } };

/** Every text that left the process: console output and what the hooks were given. */
function captureLogs() {
  const lines: string[] = [];
  const spies = (["error", "warn", "log", "info"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (arg instanceof Error ? arg.stack : String(arg))).join(" "));
    }),
  );
  return {
    lines,
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

describe("internal errors", () => {
  afterEach(() => vi.restoreAllMocks());

  describe("a throw from the token library", () => {
    const reported: unknown[] = [];
    let server: Awaited<ReturnType<typeof startTestServer>>;
    beforeAll(async () => {
      server = await startTestServer({
        service: {
          salt: () => {
            throw new RangeError(`salt failed near ${SAMPLE.appCertificate}`);
          },
          onInternalError: (error) => reported.push(error),
        },
      });
    });
    afterAll(() => server.close());

    it("is Internal with a generic message over every protocol, and is reported", async () => {
      for (const client of allProtocolClients(server.baseUrl, server.port)) {
        const before = reported.length;
        const outcome = await client.getToken(CHAT_APP);
        client.close();
        expect(outcome, client.name).toMatchObject({
          kind: "error",
          code: Code.Internal,
          message: "internal error while minting the token",
        });
        expect(reported.slice(before)).toEqual([expect.any(RangeError)]);
      }
    });

    it("is a 500 with a generic JSON error on the legacy route", async () => {
      const { status, json } = await postLegacy(server.baseUrl, { tokenType: "chat" });
      expect(status).toBe(500);
      expect(json).toEqual({ error: "internal error while minting the token" });
    });
  });

  describe("a bug outside the token service", () => {
    const reported: unknown[] = [];
    const secret = `detail with ${SAMPLE.appCertificate}`;
    const buggyService: ServiceImpl<typeof TokenService> = {
      getToken() {
        throw new TypeError(secret);
      },
      inspectToken() {
        throw new TypeError(secret);
      },
    };
    const server = createServer({
      service: buggyService,
      cors: { allowOrigin: [] },
      httpRoutes: [
        (req) => {
          if (req.url === "/explode") throw new Error(secret);
          return false;
        },
      ],
      onInternalError: (error) => reported.push(error),
    });
    let baseUrl = "";
    let port = 0;
    beforeAll(async () => {
      ({ port } = await server.listen(0, "127.0.0.1"));
      baseUrl = `http://127.0.0.1:${port}`;
    });
    afterAll(() => server.close());

    it("never reaches a Connect, gRPC or gRPC-Web caller in detail, and is reported", async () => {
      const before = reported.length;
      const logs = captureLogs();
      try {
        for (const client of allProtocolClients(baseUrl, port)) {
          const outcome = await client.getToken(CHAT_APP);
          client.close();
          expect(outcome, client.name).toMatchObject({ kind: "error", code: Code.Internal });
          if (outcome.kind === "error") expect(outcome.message).not.toContain("detail");
        }
      } finally {
        logs.restore();
      }
      expect(logs.lines.join("\n")).not.toContain(SAMPLE.appCertificate);
      const clients = allProtocolClients(baseUrl, port).length;
      expect(reported.slice(before)).toEqual(Array(clients).fill(new TypeError(secret)));
    });

    it("is a generic 500 on the legacy routes, and is reported", async () => {
      const before = reported.length;
      const post = await postLegacy(baseUrl, { tokenType: "chat" });
      expect(post).toMatchObject({ status: 500, json: { error: "internal error" } });
      const get = await fetch(`${baseUrl}/chat/app`);
      expect(get.status).toBe(500);
      expect(await get.json()).toEqual({ error: "internal error" });
      expect(reported.slice(before).map((error) => (error as Error).message)).toEqual([
        secret,
        secret,
      ]);
    });

    it("costs one request and not the process when a route throws", async () => {
      const before = reported.length;
      const response = await fetch(`${baseUrl}/explode`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: "internal error" });
      expect(reported.length).toBe(before + 1);
      expect((await fetch(`${baseUrl}/ping`)).status).toBe(200);
    });
  });
});
