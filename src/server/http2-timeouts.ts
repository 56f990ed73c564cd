import * as http2 from "node:http2";
import type { Socket } from "node:net";

/** How long the peer of a closed session has to close its side of the socket, in ms. */
const SOCKET_END_GRACE_MS = 1_000;

export interface Http2TimeoutOptions {
  /** A new session must open its first stream within this time, in ms. */
  headersTimeoutMs: number;
  /** A session without open streams for this long is closed (GOAWAY), in ms. */
  idleTimeoutMs: number;
  /** A stream still open after this long is reset (CANCEL), in ms. */
  streamTimeoutMs: number;
}

/**
 * HTTP/2's counterpart of the HTTP/1.1 timeouts, which Node's HTTP/2 server lacks: a session that
 * opens no stream (a client trickling its first HEADERS frame, or sending nothing) is closed, and
 * a stream that a client keeps open by sending its body slowly is reset.
 */
export function enforceHttp2Timeouts(
  server: http2.Http2Server,
  { headersTimeoutMs, idleTimeoutMs, streamTimeoutMs }: Http2TimeoutOptions,
): void {
  server.on("connection", (socket: Socket) => {
    // Closing a session only ends our side of its socket, and a peer that never ends its own
    // (a slowloris) would hold the socket open: destroy it after a moment.
    socket.once("finish", () => {
      const timer = setTimeout(() => socket.destroy(), SOCKET_END_GRACE_MS);
      socket.once("close", () => clearTimeout(timer));
    });
  });
  server.on("session", (session) => {
    let openStreams = 0;
    const closeIdle = () => {
      if (openStreams === 0) session.close();
    };
    let idleTimer = setTimeout(closeIdle, headersTimeoutMs);
    session.on("stream", (stream) => {
      openStreams += 1;
      clearTimeout(idleTimer);
      const streamTimer = setTimeout(() => {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      }, streamTimeoutMs);
      stream.once("close", () => {
        clearTimeout(streamTimer);
        openStreams -= 1;
        if (openStreams === 0 && !session.closed && !session.destroyed) {
          idleTimer = setTimeout(closeIdle, idleTimeoutMs);
        }
      });
    });
    session.once("close", () => clearTimeout(idleTimer));
  });
}
