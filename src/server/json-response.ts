import type { NodeRequest, NodeResponse } from "./node-types.js";

/** Writes a JSON answer, unless one was already started (the client may have gone). */
export function sendJson(res: NodeResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
  });
  res.end(json);
}

/** 413 in the JSON error shape; the rest of the body is not read, so the connection is closed. */
export function sendBodyTooLarge(req: NodeRequest, res: NodeResponse, maxBytes: number): void {
  res.once("finish", () => req.destroy());
  if ("shouldKeepAlive" in res) res.shouldKeepAlive = false;
  sendJson(res, 413, { error: `body must be at most ${maxBytes} bytes` });
}

export type BodyResult =
  | { kind: "ok"; bytes: Buffer }
  | { kind: "too-large" }
  | { kind: "aborted" };

/**
 * Reads the whole body, or stops (pausing the request) as soon as it is larger than allowed.
 * A request that breaks off (the client closed the connection or reset the stream) is "aborted".
 */
export function readBody(req: NodeRequest, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      cleanUp();
      req.pause();
      resolve({ kind: "too-large" });
    };
    const onEnd = () => {
      cleanUp();
      resolve({ kind: "ok", bytes: Buffer.concat(chunks, size) });
    };
    const onError = () => {
      cleanUp();
      resolve({ kind: "aborted" });
    };
    const cleanUp = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
