import type { NodeRequest, NodeResponse } from "./node-types.js";
import { readNodeBody } from "./read-node-body.js";

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
export async function readBody(req: NodeRequest, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) return { kind: "too-large" };
  const body = await readNodeBody(req, maxBytes);
  if (body.kind === "aborted") return body;
  if (!body.complete) return { kind: "too-large" };
  return { kind: "ok", bytes: body.bytes };
}
