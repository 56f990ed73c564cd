import type { NodeRequest } from "./node-types.js";

/** What was read of a request body: all of it, or the first part when it ran over the limit. */
export interface BodyPrefix {
  bytes: Uint8Array;
  /** False when more followed what was read. */
  complete: boolean;
  /** The `Content-Length` the client declared, if any. */
  declaredLength: number | undefined;
}

export type NodeBody = ({ kind: "read"; bytes: Buffer } & BodyPrefix) | { kind: "aborted" };

/**
 * Reads a request body up to `limit` bytes, then stops reading (the request is paused; Node
 * discards the rest once the answer is sent). A request that breaks off (the client closed the
 * connection or reset the stream) is "aborted".
 */
export function readNodeBody(req: NodeRequest, limit: number): Promise<NodeBody> {
  const declared = Number(req.headers["content-length"]);
  const declaredLength = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean) => {
      cleanUp();
      resolve({ kind: "read", bytes: Buffer.concat(chunks, size), complete, declaredLength });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
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
