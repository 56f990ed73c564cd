import { once } from "node:events";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { decodeToken } from "./support/decode-token.js";
import { spawnService } from "./support/spawn-service.js";

/** An HTTP/1.1 legacy request whose body is only half sent; `finish()` sends the rest. */
async function startHttp1Request(port: number) {
  const body = JSON.stringify({ tokenType: "rtc", channel: "drain", role: "publisher", uid: "h1" });
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk;
  });
  socket.write(
    `POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  return {
    async finish(): Promise<string> {
      socket.write(body.slice(10));
      await once(socket, "close");
      return received;
    },
  };
}

/** A Connect request over h2c whose body is only half sent. */
function startHttp2Request(port: number) {
  const body = JSON.stringify({ rtm: { uid: "h2", expireSeconds: 60 } });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({
    ":method": "POST",
    ":path": "/agora.token.v1.TokenService/GetToken",
    "content-type": "application/json",
  });
  let received = "";
  stream.on("data", (chunk) => {
    received += chunk;
  });
  const status = new Promise<number>((resolve) =>
    stream.once("response", (headers) => resolve(Number(headers[":status"]))),
  );
  stream.write(body.slice(0, 5));
  return {
    async finish(): Promise<{ status: number; body: string }> {
      stream.end(body.slice(5));
      await once(stream, "close");
      session.close();
      return { status: await status, body: received };
    },
  };
}

describe("SIGTERM", () => {
  it("finishes requests in flight on HTTP/1.1 and HTTP/2, refuses new connections, exits 0", async () => {
    const service = await spawnService();
    const http1 = await startHttp1Request(service.port);
    const h2 = startHttp2Request(service.port);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const signalledAt = Date.now();
    service.process.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));

    const refused = connect(service.port, "127.0.0.1");
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");

    const [h1Response, h2Response] = await Promise.all([http1.finish(), h2.finish()]);
    expect(h1Response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(h1Response).toMatch(/connection: close/i);
    const h1Token = JSON.parse(h1Response.slice(h1Response.indexOf("\r\n\r\n") + 4)).token;
    expect(decodeToken(h1Token).services[0]).toMatchObject({ channel: "drain", uid: "h1" });

    expect(h2Response.status).toBe(200);
    expect(decodeToken(JSON.parse(h2Response.body).token).services[0]).toMatchObject({
      userId: "h2",
    });

    expect(await service.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(service.output()).toContain("SIGTERM received");
  });

  it("exits 1 naming the variable when APP_CERTIFICATE is malformed, without printing it", async () => {
    const certificate = "0123456789abcdef0123456789abcdeZ";
    await expect(
      spawnService({ APP_ID: "0123456789abcdef0123456789abcdef", APP_CERTIFICATE: certificate }),
    ).rejects.toThrow(
      /exited with 1[\s\S]*APP_CERTIFICATE must be exactly 32 hexadecimal characters/,
    );
    try {
      await spawnService({
        APP_ID: "0123456789abcdef0123456789abcdef",
        APP_CERTIFICATE: certificate,
      });
    } catch (error) {
      expect(String(error)).not.toContain(certificate);
    }
  });

  it("refuses to start in production without credentials", async () => {
    await expect(spawnService({ NODE_ENV: "production" })).rejects.toThrow(
      /exited with 1[\s\S]*APP_ID and APP_CERTIFICATE are required/,
    );
  });
});
