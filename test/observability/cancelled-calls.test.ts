import * as http from "node:http";
import * as http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startApp } from "../support/app-server.js";
import { healthClient } from "../support/health-client.js";
import { envelope } from "../support/raw-rpc.js";

const WATCH = "/grpc.health.v1.Health/Watch";
/** Levels at which a line reaches whoever is paged. */
const ALERTING = new Set(["error", "fatal"]);

let server: AppServer;
beforeAll(async () => {
  server = await startApp();
});
afterAll(() => server?.close());

/** The request log lines of Watch calls so far. */
function watchLines() {
  return server.logLines().filter((line) => line.msg === "request" && line.route === WATCH);
}

/** Opens a Watch over HTTP/2, waits for its first message, then resets the stream (CANCEL). */
async function resetOverHttp2(contentType: string, message: Uint8Array): Promise<void> {
  const session = http2.connect(server.baseUrl);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": WATCH,
    "content-type": contentType,
    te: "trailers",
  });
  stream.on("error", () => {});
  stream.end(envelope(0, message));
  await new Promise((resolve) => stream.once("data", resolve));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await new Promise((resolve) => stream.once("close", resolve));
  session.close();
}

/** Opens a Watch over HTTP/1.1, waits for its first message, then closes the connection. */
async function abortOverHttp1(contentType: string, message: Uint8Array): Promise<void> {
  await new Promise<void>((resolve) => {
    const request = http.request(`${server.baseUrl}${WATCH}`, {
      method: "POST",
      headers: { "content-type": contentType },
      agent: false,
    });
    request.on("response", (response) => {
      response.once("data", () => {
        request.destroy();
        resolve();
      });
    });
    request.on("error", () => {});
    request.end(envelope(0, message));
  });
}

describe("a client that cancels a Watch", () => {
  it("is logged as canceled, below error, on every protocol and HTTP version", async () => {
    const health = healthClient(server.port);
    const watch = health.watch();
    await watch.received(1);
    watch.cancel();
    await watch.ended;
    health.close();
    await resetOverHttp2("application/grpc", new Uint8Array());
    await resetOverHttp2("application/grpc-web+proto", new Uint8Array());
    await resetOverHttp2("application/connect+json", Buffer.from("{}"));
    await abortOverHttp1("application/grpc-web+proto", new Uint8Array());
    await abortOverHttp1("application/connect+json", Buffer.from("{}"));

    await expect.poll(() => watchLines().length, { timeout: 5_000 }).toBe(6);
    const lines = watchLines().map(({ protocol, code, level }) => ({ protocol, code, level }));
    expect(lines.map(({ protocol }) => protocol)).toEqual([
      "grpc",
      "grpc",
      "grpc-web",
      "connect",
      "grpc-web",
      "connect",
    ]);
    for (const line of lines) {
      expect(line.code, JSON.stringify(line)).toBe("canceled");
      expect(ALERTING.has(String(line.level))).toBe(false);
    }
    // Nor is anything else about them logged as an error.
    expect(server.logLines().filter((line) => ALERTING.has(String(line.level)))).toEqual([]);
  });
});
