import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import type { NodeResponse } from "../server/http/node-types.js";
import type { Protocol } from "./protocol-of.js";

/** A Connect code as the Connect protocol spells it (`invalid_argument`), or `ok`. */
export type CodeName = string;

const codeNames = new Map<number, CodeName>([[0, "ok"]]);
for (const value of Object.values(Code)) {
  if (typeof value === "number") {
    codeNames.set(
      value,
      Code[value].replace(/[A-Z]/g, (c, at) => (at ? "_" : "") + c.toLowerCase()),
    );
  }
}
const knownCodeNames = new Set(codeNames.values());

/** The name of a numeric gRPC status (the same numbers as Connect's `Code`). */
export function codeNameOf(code: number | string): CodeName {
  return codeNames.get(Number(code)) ?? "unknown";
}

/**
 * The code for an answer that carries none but its HTTP status: the legacy routes, the
 * operational endpoints, and RPCs refused before Connect read them (unsupported media type).
 */
export function codeFromHttpStatus(status: number): CodeName {
  if (status < 400) return "ok";
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 405:
    case 415:
    case 501:
      return "unimplemented";
    case 408:
    case 504:
      return "deadline_exceeded";
    case 409:
      return "aborted";
    case 413:
    case 429:
      return "resource_exhausted";
    case 499:
      return "canceled";
    case 503:
      return "unavailable";
    default:
      return status < 500 ? "unknown" : "internal";
  }
}

/** gRPC-Web's trailers travel as the body's last frame, marked with this flag. */
const GRPC_WEB_TRAILER_FLAG = 0x80;
/** Connect streams end with a JSON frame marked with this flag. */
const CONNECT_END_STREAM_FLAG = 0x02;
/** End frames above this size are not inspected (ours are a few dozen bytes). */
const MAX_END_FRAME_BYTES = 64 * 1024;
/** How much of a Connect unary error body is kept to read its `code`. */
const MAX_ERROR_BODY_BYTES = 4 * 1024;

/**
 * Watches a response as it is written and returns a function that tells its result code once it
 * has finished, read where each protocol puts it: gRPC in the `grpc-status` trailer (or header),
 * gRPC-Web in its trailer frame, Connect in the error body or end-of-stream frame, and the HTTP
 * status for everything else. Errors raised before any interceptor runs are covered too.
 */
export function watchResponseCode(protocol: Protocol, res: NodeResponse): () => CodeName {
  const codeOf = watchProtocol(protocol, res);
  // Node reports an HTTP/2 stream reset before the answer was complete as finished; the
  // client cancelled it (or the server cut it), on HTTP/2 as on HTTP/1.1.
  return () => (wasResetBeforeEnd(res) ? "canceled" : codeOf());
}

function watchProtocol(protocol: Protocol, res: NodeResponse): () => CodeName {
  switch (protocol) {
    case "grpc":
      return watchGrpc(res);
    case "grpc-web":
      return watchGrpcWeb(res);
    case "connect":
      return watchConnect(res);
    default:
      return () => codeFromHttpStatus(res.statusCode);
  }
}

function wasResetBeforeEnd(res: NodeResponse): boolean {
  if (!("stream" in res) || res.writableEnded) return false;
  const rstCode = res.stream.rstCode;
  return rstCode !== undefined && rstCode !== http2.constants.NGHTTP2_NO_ERROR;
}

function watchGrpc(res: NodeResponse): () => CodeName {
  let trailerStatus: string | undefined;
  const addTrailers = res.addTrailers.bind(res) as (headers: object) => void;
  res.addTrailers = ((headers: Record<string, unknown>) => {
    const status = headers["grpc-status"];
    if (status !== undefined) trailerStatus = String(status);
    addTrailers(headers);
  }) as typeof res.addTrailers;
  return () => {
    const status = trailerStatus ?? headerOf(res, "grpc-status");
    if (status !== undefined) return codeNameOf(status);
    return res.statusCode === 200 ? "unknown" : codeFromHttpStatus(res.statusCode);
  };
}

function watchGrpcWeb(res: NodeResponse): () => CodeName {
  const trailer = createEndFrameReader(GRPC_WEB_TRAILER_FLAG);
  observeBody(res, (chunk) => trailer.push(chunk));
  return () => {
    // An error before any message may come as "trailers-only": in the headers.
    const headerStatus = headerOf(res, "grpc-status");
    if (headerStatus !== undefined) return codeNameOf(headerStatus);
    const frame = trailer.frame();
    const status = frame && /^grpc-status:\s*(\d+)\s*$/im.exec(frame.toString("latin1"))?.[1];
    if (status) return codeNameOf(status);
    return res.statusCode === 200 ? "unknown" : codeFromHttpStatus(res.statusCode);
  };
}

function watchConnect(res: NodeResponse): () => CodeName {
  const endStream = createEndFrameReader(CONNECT_END_STREAM_FLAG);
  const head: Buffer[] = [];
  let headBytes = 0;
  observeBody(res, (chunk) => {
    endStream.push(chunk);
    if (headBytes < MAX_ERROR_BODY_BYTES) {
      head.push(chunk);
      headBytes += chunk.length;
    }
  });
  return () => {
    if (String(headerOf(res, "content-type")).startsWith("application/connect+")) {
      const frame = endStream.frame();
      if (!frame) return "unknown";
      const end = parseJson(frame) as { error?: { code?: unknown } } | undefined;
      return end?.error === undefined ? "ok" : knownCode(end.error.code);
    }
    if (res.statusCode === 200) return "ok";
    const error = parseJson(Buffer.concat(head)) as { code?: unknown } | undefined;
    return error?.code === undefined ? codeFromHttpStatus(res.statusCode) : knownCode(error.code);
  };
}

function knownCode(code: unknown): CodeName {
  return typeof code === "string" && knownCodeNames.has(code) ? code : "unknown";
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function headerOf(res: NodeResponse, name: string): string | undefined {
  const value = res.getHeader(name);
  return value === undefined ? undefined : String(value);
}

/** Calls `onChunk` with every chunk the response body is given, before it is written. */
function observeBody(res: NodeResponse, onChunk: (chunk: Buffer) => void): void {
  const inspect = (chunk: unknown) => {
    if (typeof chunk === "string") onChunk(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array)
      onChunk(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    inspect(chunk);
    return write(chunk, ...rest);
  }) as typeof res.write;
  const end = res.end.bind(res) as (...args: unknown[]) => NodeResponse;
  res.end = ((chunk: unknown, ...rest: unknown[]) => {
    inspect(chunk);
    return end(chunk, ...rest);
  }) as typeof res.end;
}

/**
 * Reads a stream of length-prefixed frames (1 flag byte, 4 bytes big-endian length, payload) as
 * it is written, skipping data frames without keeping them, and keeps the payload of the last
 * frame whose flags include `endFlag` (uncompressed only).
 */
function createEndFrameReader(endFlag: number) {
  let pending = Buffer.alloc(0);
  let toSkip = 0;
  let end: Buffer | undefined;
  let gaveUp = false;
  return {
    push(chunk: Buffer) {
      if (gaveUp) return;
      let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (data.length > 0) {
        if (toSkip > 0) {
          const skipped = Math.min(toSkip, data.length);
          toSkip -= skipped;
          data = data.subarray(skipped);
          continue;
        }
        if (data.length < 5) break;
        const flags = data[0] ?? 0;
        const length = data.readUInt32BE(1);
        if ((flags & endFlag) === 0) {
          toSkip = length;
          data = data.subarray(5);
          continue;
        }
        if (length > MAX_END_FRAME_BYTES || (flags & 0x01) !== 0) {
          gaveUp = true;
          return;
        }
        if (data.length < 5 + length) break;
        end = Buffer.from(data.subarray(5, 5 + length));
        data = data.subarray(5 + length);
      }
      pending = Buffer.from(data);
    },
    frame: () => end,
  };
}
