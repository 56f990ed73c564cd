import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { grpcJsClient, postLegacy } from "./support/clients.js";
import { decodeToken } from "./support/decode-token.js";
import { startTestServer } from "./support/test-server.js";

const SLOW_CLIENTS = 300;
const HEADERS_TIMEOUT_MS = 1_000;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** An empty SETTINGS frame: what a client must send right after the preface. */
const SETTINGS = Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]);
/** A HEADERS frame (END_HEADERS, stream 1) announcing 1000 bytes of header block. */
const HEADERS = Buffer.concat([
  Buffer.from([0x00, 0x03, 0xe8, 0x01, 0x04, 0, 0, 0, 1]),
  Buffer.alloc(1000, 0x40),
]);

/** What each kind of slow client sends at once, and then one byte at a time. */
const slowRequests = {
  // HTTP/1.1 request headers: closed by headersTimeout (408).
  http1: {
    atOnce: Buffer.alloc(0),
    trickled: Buffer.from(
      "POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: yes\r\n\r\n",
    ),
  },
  // The HTTP/2 preface itself: closed by the protocol sniffer's deadline.
  http2Preface: { atOnce: Buffer.alloc(0), trickled: PREFACE },
  // A preface and SETTINGS, then a HEADERS frame: closed when no stream opens in time.
  http2Headers: { atOnce: Buffer.concat([PREFACE, SETTINGS]), trickled: HEADERS },
};

interface SlowClient {
  socket: Socket;
  kind: keyof typeof slowRequests;
  received: string;
  closed: Promise<void>;
}

function startSlowClient(port: number, kind: keyof typeof slowRequests): SlowClient {
  const socket = connect(port, "127.0.0.1");
  const client: SlowClient = {
    socket,
    kind,
    received: "",
    closed: new Promise((resolve) => socket.once("close", () => resolve())),
  };
  socket.setNoDelay(true);
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => {
    client.received += chunk.toString("latin1");
  });
  socket.write(slowRequests[kind].atOnce);
  return client;
}

describe("slow clients", () => {
  it(`${SLOW_CLIENTS} connections sending headers byte by byte neither stop a normal client nor stay open`, async () => {
    const server = await startTestServer({
      limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: 2_000 },
    });
    const kinds = Object.keys(slowRequests) as (keyof typeof slowRequests)[];
    const slow = Array.from({ length: SLOW_CLIENTS }, (_, index) =>
      startSlowClient(server.port, kinds[index % kinds.length] ?? "http1"),
    );
    // One timer drives every slow client: one more byte each, every 100 ms.
    let sent = 0;
    const trickle = setInterval(() => {
      for (const client of slow) {
        const { trickled } = slowRequests[client.kind];
        if (!client.socket.destroyed && sent < trickled.length) {
          client.socket.write(trickled.subarray(sent, sent + 1));
        }
      }
      sent += 1;
    }, 100);
    const grpc = grpcJsClient(server.port);
    try {
      // A normal client on both protocols, while the slow ones hold their connections.
      for (let round = 0; round < 10; round++) {
        const legacy = await postLegacy(
          server.baseUrl,
          { tokenType: "rtc", channel: "busy", role: "publisher", uid: `u${round}` },
          { signal: AbortSignal.timeout(5_000) },
        );
        expect(legacy.status).toBe(200);
        expect(decodeToken(String(legacy.json.token)).services[0]).toMatchObject({
          channel: "busy",
          uid: `u${round}`,
        });
        const outcome = await Promise.race([
          grpc.getToken({ request: { case: "rtm", value: { uid: `r${round}` } } }),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error("gRPC call took over 5 s")), 5_000),
          ),
        ]);
        if (outcome.kind !== "ok") throw new Error(JSON.stringify(outcome));
        expect(decodeToken(outcome.response.token).services[0]).toMatchObject({
          userId: `r${round}`,
        });
      }
      // Every slow connection is closed by the server, none by us.
      await Promise.all(slow.map((client) => client.closed));
      for (const client of slow) {
        if (client.kind === "http1") expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
        else expect(client.received).not.toMatch(/HTTP\/1\.1 200/);
      }
      // They were closed by the timeouts, well before sending their whole request.
      expect(sent).toBeLessThan(slowRequests.http2Preface.trickled.length);
    } finally {
      clearInterval(trickle);
      grpc.close();
      for (const client of slow) client.socket.destroy();
      await server.close();
    }
  });
});
