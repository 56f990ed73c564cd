import * as http2 from "node:http2";

export interface Http2TimeoutOptions {
  /** A new session must open its first stream within this time, in ms. */
  headersTimeoutMs: number;
  /** A session without open streams for this long is closed (GOAWAY, then the socket), in ms. */
  idleTimeoutMs: number;
  /** A stream whose request has not fully arrived after this long is reset (CANCEL), in ms. */
  requestTimeoutMs: number;
}

/**
 * HTTP/2's counterpart of the HTTP/1.1 timeouts, which Node's HTTP/2 server lacks: a session that
 * opens no stream (a client trickling its first HEADERS frame, or sending nothing) is closed, and
 * a stream that a client keeps open by sending its body slowly is reset. Once the request has
 * arrived, what bounds the stream is the call (streaming calls have a maximum age of their own).
 */
export function enforceHttp2Timeouts(
  server: http2.Http2Server,
  { headersTimeoutMs, idleTimeoutMs, requestTimeoutMs }: Http2TimeoutOptions,
): void {
  server.on("session", (session) => {
    let openStreams = 0;
    // destroy() still sends GOAWAY (NO_ERROR). close() would wait for the peer, and when the
    // peer has begun a HEADERS frame that it never finishes, Node 20 then reports the socket
    // closed while its file descriptor stays open for good.
    const closeIdle = () => {
      if (openStreams === 0) session.destroy();
    };
    let idleTimer = setTimeout(closeIdle, headersTimeoutMs);
    session.on("stream", (stream) => {
      openStreams += 1;
      clearTimeout(idleTimer);
      const requestTimer = stream.endAfterHeaders
        ? undefined
        : setTimeout(() => {
            if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          }, requestTimeoutMs);
      stream.once("end", () => clearTimeout(requestTimer));
      stream.once("close", () => {
        clearTimeout(requestTimer);
        openStreams -= 1;
        if (openStreams === 0 && !session.closed && !session.destroyed) {
          idleTimer = setTimeout(closeIdle, idleTimeoutMs);
        }
      });
    });
    session.once("close", () => clearTimeout(idleTimer));
  });
}
