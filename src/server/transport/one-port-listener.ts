import type * as http from "node:http";
import type * as http2 from "node:http2";
import * as net from "node:net";

/** The client connection preface that starts every HTTP/2 connection (h2c prior knowledge). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export interface OnePortListener {
  server: net.Server;
  /** Closes connections that have not yet sent enough to be handed over (used on shutdown). */
  closeUnsniffed(): void;
}

export interface OnePortListenerOptions {
  http1: http.Server;
  http2: http2.Http2Server;
  /** A connection that has not shown which protocol it speaks by then is closed. */
  sniffTimeoutMs: number;
  /** Connections beyond this many open at once are closed as soon as they are accepted. */
  maxConnections: number;
}

/**
 * A TCP server that reads the first bytes of each connection and hands it to the HTTP/2 server
 * when they are the HTTP/2 preface, to the HTTP/1.1 server otherwise. Node's
 * `http2.createServer({ allowHTTP1 })` does this only over TLS.
 */
export function createOnePortListener({
  http1,
  http2,
  sniffTimeoutMs,
  maxConnections,
}: OnePortListenerOptions): OnePortListener {
  // Timeouts and closeIdleConnections() of an http.Server only run once it has "listened".
  http1.emit("listening");
  const sniffing = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    let received: Buffer = Buffer.alloc(0);
    sniffing.add(socket);
    const timer = setTimeout(() => socket.destroy(), sniffTimeoutMs);
    const handOver = (server: net.Server | http2.Http2Server, resume: boolean) => {
      clearTimeout(timer);
      sniffing.delete(socket);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.pause();
      socket.unshift(received);
      server.emit("connection", socket);
      // The HTTP/1.1 parser waits for data events; HTTP/2 reads what is buffered by itself.
      if (resume) socket.resume();
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, HTTP2_PREFACE.length);
      if (received.subarray(0, compared).compare(HTTP2_PREFACE.subarray(0, compared)) !== 0) {
        handOver(http1, true);
      } else if (received.length >= HTTP2_PREFACE.length) {
        handOver(http2, false);
      }
    };
    const onError = () => socket.destroy();
    const onClose = () => {
      clearTimeout(timer);
      sniffing.delete(socket);
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
  });
  server.maxConnections = maxConnections;
  return {
    server,
    closeUnsniffed() {
      for (const socket of sniffing) socket.destroy();
    },
  };
}
