import { once } from "node:events";
import * as http2 from "node:http2";
import { connect, type Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcJsClient } from "../support/clients.js";
import { decodeToken } from "../support/decode-token.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const RPC_PATH = "/agora.token.v1.TokenService/GetToken";
const CHAT_APP_REQUEST = JSON.stringify({ chat: {} });

/** Writes raw bytes on a new connection and returns everything the server sent until it closed. */
async function exchange(port: number, bytes: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk;
  });
  socket.on("error", () => {});
  socket.write(bytes);
  await closed(socket);
  return received;
}

/** Resolves when the socket closes, however it closes (`once` would reject on ECONNRESET). */
function closed(emitter: Socket | http2.Http2Stream): Promise<void> {
  return new Promise((resolve) => emitter.once("close", () => resolve()));
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/** One Connect JSON call over a fresh HTTP/2 session; the session is closed afterwards. */
async function http2Call(
  baseUrl: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ status: number | undefined; body: string; rstCode: number }> {
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  // The server's SETTINGS, with its header limit, apply once the client has them.
  await once(session, "remoteSettings");
  const stream = session.request({
    ":method": "POST",
    ":path": RPC_PATH,
    "content-type": "application/json",
    ...headers,
  });
  stream.on("error", () => {});
  let status: number | undefined;
  let body = "";
  stream.on("response", (responseHeaders) => {
    status = Number(responseHeaders[":status"]);
  });
  stream.on("data", (chunk) => {
    body += chunk;
  });
  stream.end(CHAT_APP_REQUEST);
  await closed(stream);
  session.close();
  return { status, body, rstCode: stream.rstCode ?? 0 };
}

describe("server limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ limits: { maxHeaderBytes: 4096 } });
  });
  afterAll(() => server.close());

  it("answers HTTP/1.1 headers over MAX_HEADER_BYTES with 431 and keeps serving", async () => {
    const response = await exchange(
      server.port,
      `POST /getToken HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(8192)}\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    const after = await fetch(`${server.baseUrl}/ping`);
    expect(after.status).toBe(200);
  });

  it("resets an HTTP/2 stream whose headers are over MAX_HEADER_BYTES, and gRPC reads it as ResourceExhausted", async () => {
    const raw = await http2Call(server.baseUrl, { "x-pad": "a".repeat(8192) });
    expect(raw.status).toBeUndefined();
    expect(raw.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);

    const client = grpcJsClient(server.port);
    try {
      const outcome = await new Promise<grpc.ServiceError | null>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set("x-pad", "a".repeat(8192));
        const generic = new grpc.Client(
          `127.0.0.1:${server.port}`,
          grpc.credentials.createInsecure(),
        );
        generic.makeUnaryRequest(
          RPC_PATH,
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          Buffer.alloc(0),
          metadata,
          (error) => {
            generic.close();
            resolve(error);
          },
        );
      });
      expect(outcome?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      // The connection's other calls are unaffected.
      const ok = await client.getToken({ request: { case: "chat", value: {} } });
      expect(ok.kind).toBe("ok");
    } finally {
      client.close();
    }
  });

  it("announces the HTTP/2 stream and header limits in its SETTINGS", async () => {
    const session = http2.connect(server.baseUrl);
    const [settings] = (await once(session, "remoteSettings")) as [http2.Settings];
    session.close();
    expect(settings).toMatchObject({ maxConcurrentStreams: 100, maxHeaderListSize: 4096 });
  });

  it("answers an HTTP/1.0 RPC request without Host instead of crashing", async () => {
    // GetToken's fast path needs no Host: it answers.
    const minted = await exchange(
      server.port,
      `POST ${RPC_PATH} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${CHAT_APP_REQUEST.length}\r\n\r\n${CHAT_APP_REQUEST}`,
    );
    expect(minted).toMatch(/^HTTP\/1\.1 200 /);
    // connect-node's handlers (InspectToken) need one: 400, where the adapter used to throw.
    const inspect = '{"token":"007"}';
    const response = await exchange(
      server.port,
      `POST /agora.token.v1.TokenService/InspectToken HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${inspect.length}\r\n\r\n${inspect}`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain(
      '{"error":"the request must name a valid host in Host or :authority"}',
    );
    const after = await http2Call(server.baseUrl);
    expect(after.status).toBe(200);
    expect(decodeToken(JSON.parse(after.body).token).services[0]?.privileges).toEqual({
      2: 3600,
    });
  });

  it("refuses a Connect message over MAX_BODY_BYTES with resource_exhausted", async () => {
    const response = await fetch(`${server.baseUrl}${RPC_PATH}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ chat: { uid: "a".repeat(30_000) } }),
    });
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ code: "resource_exhausted" });
  });
});

describe("MAX_CONNECTIONS", () => {
  it("closes connections beyond the cap at once and accepts again when one closes", async () => {
    const server = await startTestServer({ limits: { maxConnections: 3 } });
    const held = await Promise.all([1, 2, 3].map(() => openSocket(server.port)));
    try {
      const refused = await exchange(server.port, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(refused).toBe("");

      held.pop()?.destroy();
      // The server notices the close a moment later; retry, bounded, until it does.
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
        const answer = await exchange(
          server.port,
          "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
      await server.close();
    }
  });
});

describe("HTTP/2 timeouts", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, http2IdleTimeoutMs: 300 },
    });
  });
  afterAll(() => server.close());

  it("sends GOAWAY to a session left idle after its last stream", async () => {
    const session = http2.connect(server.baseUrl);
    const stream = session.request({
      ":method": "POST",
      ":path": RPC_PATH,
      "content-type": "application/json",
    });
    stream.resume();
    stream.end(CHAT_APP_REQUEST);
    await once(stream, "close");
    const [code] = (await once(session, "goaway")) as [number];
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await once(session, "close");
  });

  it("closes a connection that sends the preface and then trickles a frame forever", async () => {
    const socket = await openSocket(server.port);
    socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(Buffer.from([0]));
    }, 50);
    try {
      await closed(socket);
    } finally {
      clearInterval(trickle);
    }
  });

  it("resets a stream whose body is still unfinished after REQUEST_TIMEOUT_MS", async () => {
    const session = http2.connect(server.baseUrl);
    const stream = session.request({
      ":method": "POST",
      ":path": RPC_PATH,
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.write("{");
    const drip = setInterval(() => stream.write(" "), 50);
    try {
      await closed(stream);
    } finally {
      clearInterval(drip);
      session.close();
    }
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
  });
});

describe("HTTP/2 floods", () => {
  const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
  const GOAWAY = 0x7;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ limits: { http2IdleTimeoutMs: 500 } });
  });
  afterAll(() => server.close());

  function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
    const header = Buffer.alloc(9);
    header.writeUIntBE(payload.length, 0, 3);
    header.writeUInt8(type, 3);
    header.writeUInt8(flags, 4);
    header.writeUInt32BE(stream, 5);
    return Buffer.concat([header, payload]);
  }

  /** Sends the preface, then `chunks` as fast as the socket takes them; returns what came back. */
  async function flood(chunks: Buffer[], readWhileSending: boolean): Promise<Buffer> {
    const socket = await openSocket(server.port);
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    if (!readWhileSending) socket.pause();
    socket.write(Buffer.concat([PREFACE, frame(0x4, 0, 0, Buffer.alloc(0))]));
    for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
    // Reading now lets the client see the GOAWAY and the close.
    socket.resume();
    await closed(socket);
    return Buffer.concat(received);
  }

  /** The error codes of the GOAWAY frames in `bytes`. */
  function goawayCodes(bytes: Buffer): number[] {
    const codes: number[] = [];
    for (let offset = 0; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) {
      if (bytes.readUInt8(offset + 3) === GOAWAY) codes.push(bytes.readUInt32BE(offset + 13));
    }
    return codes;
  }

  it("closes a connection that floods PINGs without reading the answers, and keeps serving", async () => {
    const pings = Buffer.concat(
      Array.from({ length: 1000 }, () => frame(0x6, 0, 0, Buffer.alloc(8))),
    );
    const received = await flood(
      Array.from({ length: 50 }, () => pings),
      false,
    );
    expect(goawayCodes(received)[0]).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect((await fetch(`${server.baseUrl}/ping`)).status).toBe(200);
  });

  it("stops a rapid-reset flood (HEADERS then RST_STREAM); the idle timeout then closes the socket Node leaves open", async () => {
    // :method GET, :scheme http, :path / (static table), :authority "x".
    const headerBlock = Buffer.from([0x82, 0x86, 0x84, 0x41, 0x01, 0x78]);
    const batches = Array.from({ length: 5 }, (_, batch) =>
      Buffer.concat(
        Array.from({ length: 1000 }, (_, index) => {
          const stream = 1 + 2 * (batch * 1000 + index);
          return Buffer.concat([
            frame(0x1, 0x4 | 0x1, stream, headerBlock),
            frame(0x3, 0, stream, Buffer.from([0, 0, 0, http2.constants.NGHTTP2_CANCEL])),
          ]);
        }),
      ),
    );
    const received = await flood(batches, true);
    // nghttp2 cut the session itself (an error code) before the idle timeout (NO_ERROR) closed it.
    expect(goawayCodes(received)[0]).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect((await fetch(`${server.baseUrl}/ping`)).status).toBe(200);
  });
});
