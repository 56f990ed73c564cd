import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { decodeToken } from "./support/decode-token.js";
import { spawnService } from "./support/spawn-service.js";

/** One legacy request on a fresh connection, so that the cluster may pick any worker. */
function mintOnNewConnection(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: "127.0.0.1", path: "/getToken", method: "POST", agent: false },
      (res) => {
        let body = "";
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve(JSON.parse(body).token));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ tokenType: "rtm", uid: "worker-test" }));
  });
}

describe("WORKERS=2", () => {
  it("serves the one port from two processes and drains them all on SIGTERM", async () => {
    const service = await spawnService({ WORKERS: "2" });
    await expect.poll(() => (service.output().match(/"msg":"listening on/g) ?? []).length).toBe(2);
    for (let i = 0; i < 20; i++) {
      const token = await mintOnNewConnection(service.port);
      expect(decodeToken(token).services[0]).toMatchObject({ userId: "worker-test" });
    }
    const servingPids = new Set(
      [...service.output().matchAll(/"pid":(\d+)[^\n]*"protocol":"legacy"/g)].map((m) => m[1]),
    );
    expect(servingPids.size).toBe(2);

    service.process.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    expect(service.output()).toMatch(/stopping 2 workers/);
  });
});
