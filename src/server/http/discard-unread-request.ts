import * as http2 from "node:http2";

/** The most of an unwanted HTTP/2 request body read and discarded before the stream is reset. */
const MAX_DISCARDED_BYTES = 1024 * 1024;

/**
 * An answer sent before the whole request arrived (a message over the limit: Connect stops
 * reading) leaves the client's half of the stream unread, and Node then never ends the response:
 * the gRPC trailers are not sent and the stream, and a graceful close of its session, wait
 * forever. So once the answer is queued, read and discard the rest of the request; reset the
 * stream if the client sends far more.
 */
export function discardUnreadRequestOnEnd(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): void {
  const end = res.end.bind(res) as (...args: unknown[]) => http2.Http2ServerResponse;
  res.end = ((...args: unknown[]) => {
    const result = end(...args);
    if (!req.complete) discard(req.stream);
    return result;
  }) as typeof res.end;
}

function discard(stream: http2.ServerHttp2Stream): void {
  let discarded = 0;
  const onReadable = () => {
    for (let chunk: Buffer | null = stream.read(); chunk !== null; chunk = stream.read()) {
      discarded += chunk.length;
      if (discarded > MAX_DISCARDED_BYTES) {
        stream.off("readable", onReadable);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
    }
  };
  stream.on("readable", onReadable);
}
