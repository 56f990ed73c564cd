import * as http from "node:http";
import type * as http2 from "node:http2";

export const GET_TOKEN_PATH = "/agora.token.v1.TokenService/GetToken";

/** The wire protocols a raw body can be posted with, and their content types. */
export const rawProtocols = {
  "connect json": "application/json",
  "connect binary": "application/proto",
  grpc: "application/grpc+proto",
  "grpc-web": "application/grpc-web+proto",
} as const;

export type RawProtocol = keyof typeof rawProtocols;

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
}

/**
 * What a protocol's answer says: a message (the raw response message bytes, or the parsed JSON), or
 * an error with the protocol's code name and its decoded message.
 */
export type RawOutcome =
  | { kind: "ok"; message: Uint8Array | unknown }
  | { kind: "error"; code: string; message: string };

/** A gRPC length-prefixed message. */
export function envelope(flags: number, message: Uint8Array, length = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(flags & 0xff, 0);
  header.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([header, message]);
}

function flatten(
  headers: http2.IncomingHttpHeaders | http.IncomingHttpHeaders | NodeJS.Dict<string> | Headers,
): Record<string, string> {
  const flat: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      flat[name] = value;
    });
    return flat;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flat;
}

/** POSTs `body` to GetToken over an open HTTP/2 session. */
export function postRawHttp2(
  session: http2.ClientHttp2Session,
  contentType: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return rawRequest("", session, {
    httpVersion: "2",
    headers: { "content-type": contentType, te: "trailers", ...headers },
    body,
  });
}

/** POSTs `body` to GetToken over HTTP/1.1 (fetch keeps the connection alive). */
export async function postRawHttp1(
  baseUrl: string,
  contentType: string,
  body: Uint8Array,
): Promise<RawResponse> {
  const response = await fetch(`${baseUrl}${GET_TOKEN_PATH}`, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
  return {
    status: response.status,
    headers: flatten(response.headers),
    trailers: {},
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** gRPC status codes by number, as the Connect protocol names them. */
export const grpcCodeNames = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** Reads a response the way a client of `protocol` would. Throws on a malformed response. */
export function readOutcome(protocol: RawProtocol, response: RawResponse): RawOutcome {
  if (protocol === "connect json" || protocol === "connect binary") {
    if (response.status === 200) {
      return {
        kind: "ok",
        message:
          protocol === "connect json"
            ? JSON.parse(response.body.toString("utf8"))
            : new Uint8Array(response.body),
      };
    }
    const error = JSON.parse(response.body.toString("utf8")) as { code: string; message?: string };
    return { kind: "error", code: error.code, message: error.message ?? "" };
  }
  if (response.status !== 200) throw new Error(`${protocol} answered HTTP ${response.status}`);
  const messages: Buffer[] = [];
  let status: Record<string, string> = { ...response.headers, ...response.trailers };
  for (let offset = 0; offset < response.body.length; ) {
    const flags = response.body.readUInt8(offset);
    const length = response.body.readUInt32BE(offset + 1);
    const data = response.body.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if (flags & 0x80) status = { ...status, ...parseTrailerFrame(data) };
    else messages.push(data);
  }
  const code = Number(status["grpc-status"]);
  if (!Number.isInteger(code)) throw new Error(`${protocol} answered without grpc-status`);
  if (code === 0) {
    if (messages.length !== 1) throw new Error(`${protocol} answered ${messages.length} messages`);
    return { kind: "ok", message: new Uint8Array(messages[0] ?? []) };
  }
  return {
    kind: "error",
    code: grpcCodeNames[code] ?? `code ${code}`,
    message: decodeURIComponent(status["grpc-message"] ?? ""),
  };
}

function parseTrailerFrame(data: Buffer): Record<string, string> {
  const trailers: Record<string, string> = {};
  for (const line of data.toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0)
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return trailers;
}

/** Everything in a response as text, to search it for secrets. */
export function responseText(response: RawResponse): string {
  return [
    JSON.stringify(response.headers),
    JSON.stringify(response.trailers),
    response.body.toString("latin1"),
  ].join("\n");
}

export interface RawRequest {
  httpVersion: "1.1" | "2";
  path?: string;
  method?: string;
  /** Request headers, exactly as sent (node:http and node:http2 add no others but Host). */
  headers: Record<string, string>;
  body?: Uint8Array;
}

/**
 * Sends one request exactly as given, over HTTP/1.1 (node:http, a new connection) or over
 * `session` (HTTP/2), and returns everything the server answered.
 */
export function rawRequest(
  baseUrl: string,
  session: http2.ClientHttp2Session | undefined,
  { httpVersion, path = GET_TOKEN_PATH, method = "POST", headers, body }: RawRequest,
): Promise<RawResponse> {
  if (httpVersion === "2") {
    if (!session) throw new Error("HTTP/2 needs a session");
    return new Promise((resolve, reject) => {
      const stream = session.request({ ":method": method, ":path": path, ...headers });
      let status = 0;
      let responseHeaders: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      stream.on("response", (received) => {
        status = Number(received[":status"]);
        responseHeaders = flatten(received);
        delete responseHeaders[":status"];
      });
      stream.on("trailers", (received) => {
        trailers = flatten(received);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", reject);
      stream.on("close", () =>
        resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks) }),
      );
      stream.end(body);
    });
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${baseUrl}${path}`,
      { method, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: flatten(response.headers),
            trailers: flatten(response.trailers),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** What a client reads from an RPC response, whatever its protocol. */
export interface RpcResult {
  status: number;
  /** Response messages received before the end. */
  messages: number;
  /** The code it ended with as Connect names it (`ok`, `invalid_argument`…), or `http <status>`. */
  code: string;
  message: string;
}

/**
 * Reads a response as its protocol's client would, from its content type: gRPC's status in
 * the trailers (or headers), gRPC-Web's in its trailer frame, a Connect stream's in its
 * end-of-stream frame, a Connect unary error from its JSON body.
 */
export function rpcResult(response: RawResponse): RpcResult {
  const contentType = response.headers["content-type"] ?? "";
  const { status } = response;
  const framed =
    contentType.startsWith("application/grpc") || contentType.startsWith("application/connect+");
  if (!framed) {
    if (status === 200) return { status, messages: 1, code: "ok", message: "" };
    if (!contentType.startsWith("application/json")) {
      return { status, messages: 0, code: `http ${status}`, message: "" };
    }
    const error = JSON.parse(response.body.toString("utf8")) as { code: string; message?: string };
    return { status, messages: 0, code: error.code, message: error.message ?? "" };
  }
  let messages = 0;
  let fields: Record<string, string> = { ...response.headers, ...response.trailers };
  for (let offset = 0; offset + 5 <= response.body.length; ) {
    const flags = response.body.readUInt8(offset);
    const length = response.body.readUInt32BE(offset + 1);
    const data = response.body.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if (flags === 0x02) {
      const end = JSON.parse(data.toString("utf8")) as {
        error?: { code: string; message?: string };
      };
      const code = end.error?.code ?? "ok";
      return { status, messages, code, message: end.error?.message ?? "" };
    }
    if (flags & 0x80) fields = { ...fields, ...parseTrailerFrame(data) };
    else messages += 1;
  }
  const code = Number(fields["grpc-status"]);
  return {
    status,
    messages,
    code: Number.isInteger(code) ? (grpcCodeNames[code] ?? `code ${code}`) : "no status",
    message: decodeURIComponent(fields["grpc-message"] ?? ""),
  };
}

/**
 * `message` followed by an unknown bytes field (number 15) of zeros, `size` bytes in all:
 * a message of exactly that size that every parser skips its way through. The length is always
 * a 3-byte varint (not the shortest for small sizes, which protobuf allows): up to 2 MiB.
 */
export function paddedMessage(message: Uint8Array, size: number): Buffer {
  const padding = size - message.length - 4;
  const length = [(padding & 0x7f) | 0x80, ((padding >> 7) & 0x7f) | 0x80, padding >> 14];
  return Buffer.concat([message, Buffer.from([0x7a, ...length]), Buffer.alloc(padding)]);
}
