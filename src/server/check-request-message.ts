import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression, UniversalServerRequest } from "@connectrpc/connect/protocol";

/** A request whose body is a byte stream (every request connect-node's adapter hands over). */
export type ByteStreamRequest = Omit<UniversalServerRequest, "body"> & {
  body: AsyncIterable<Uint8Array>;
};

export type MessageCheck =
  | { kind: "ok"; request: ByteStreamRequest }
  | {
      kind: "malformed";
      /** The request with an empty, well-formed message in place of the malformed one. */
      request: ByteStreamRequest;
      /** Why, in words fit for a gRPC error message (no `: , / ? #`). */
      reason: string;
    };

export interface CheckRequestMessageOptions {
  /** The method's input message. */
  input: DescMessage;
  /** The largest message accepted; larger bodies are left to Connect, which refuses them. */
  readMaxBytes: number;
  /** The compressions the router accepts. */
  compressions: readonly Compression[];
}

type Framing =
  | { kind: "unary"; binary: boolean; encodingHeader: "content-encoding" }
  | { kind: "envelopes"; binary: boolean; encodingHeader: "grpc-encoding" };

const CONNECT_UNARY = /^application\/(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;
const GRPC = /^application\/grpc(?:-web)?(?:\+(?:(json)(?:; ?charset=utf-?8)?|proto))?$/i;
const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;

/**
 * Connect answers a request message that is not valid protobuf binary, or a gRPC message marked
 * compressed without an encoding, with `Internal`, as if the server were at fault. This reads the
 * body of a unary call first and reports such a message as the client's mistake, handing on a
 * request whose body the protocol handler can still read. Bodies it cannot judge (too large, an
 * unknown encoding, broken framing) go on unchanged for Connect to refuse with its own code.
 */
export async function checkRequestMessage(
  request: ByteStreamRequest,
  { input, readMaxBytes, compressions }: CheckRequestMessageOptions,
): Promise<MessageCheck> {
  const framing = framingOf(request);
  if (framing === undefined) return { kind: "ok", request };
  const read = await readUpTo(request.body, readMaxBytes + ENVELOPE_HEADER_BYTES);
  const passOn: MessageCheck = { kind: "ok", request: { ...request, body: read.body } };
  if (read.bytes === undefined) return passOn;

  const encoding = request.header.get(framing.encodingHeader) ?? "identity";
  const compression =
    encoding === "identity" ? undefined : compressions.find(({ name }) => name === encoding);
  if (encoding !== "identity" && compression === undefined) return passOn;

  const problem =
    framing.kind === "unary"
      ? await unaryProblem(read.bytes, framing.binary, compression, input, readMaxBytes)
      : await envelopesProblem(read.bytes, framing.binary, compression, input, readMaxBytes);
  if (problem === undefined) return passOn;
  const header = new Headers(request.header);
  header.delete(framing.encodingHeader);
  return {
    kind: "malformed",
    reason: problem,
    request: { ...request, header, body: once(emptyMessageFor(framing)) },
  };
}

/** An empty input message in the request's framing and codec, uncompressed. */
function emptyMessageFor(framing: Framing): Uint8Array {
  const message = framing.binary ? Buffer.alloc(0) : Buffer.from("{}");
  if (framing.kind === "unary") return message;
  const envelope = Buffer.alloc(ENVELOPE_HEADER_BYTES + message.length);
  envelope.writeUInt32BE(message.length, 1);
  message.copy(envelope, ENVELOPE_HEADER_BYTES);
  return envelope;
}

function framingOf(request: ByteStreamRequest): Framing | undefined {
  if (request.method !== "POST") return undefined;
  const contentType = request.header.get("content-type") ?? "";
  const unary = CONNECT_UNARY.exec(contentType);
  if (unary)
    return { kind: "unary", binary: unary[1] === undefined, encodingHeader: "content-encoding" };
  const grpc = GRPC.exec(contentType);
  if (grpc)
    return { kind: "envelopes", binary: grpc[1] === undefined, encodingHeader: "grpc-encoding" };
  return undefined;
}

async function unaryProblem(
  bytes: Uint8Array,
  binary: boolean,
  compression: Compression | undefined,
  input: DescMessage,
  readMaxBytes: number,
): Promise<string | undefined> {
  // JSON that does not parse is already InvalidArgument; only binary needs a look.
  if (!binary) return undefined;
  const message = await decompressed(bytes, compression, readMaxBytes);
  if (message.kind === "pass") return undefined;
  if (message.kind === "broken") return message.reason;
  return parseProblem(message.bytes, input);
}

async function envelopesProblem(
  bytes: Uint8Array,
  binary: boolean,
  compression: Compression | undefined,
  input: DescMessage,
  readMaxBytes: number,
): Promise<string | undefined> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset + ENVELOPE_HEADER_BYTES <= bytes.length; ) {
    const flags = view.getUint8(offset);
    const length = view.getUint32(offset + 1);
    const start = offset + ENVELOPE_HEADER_BYTES;
    // An incomplete or oversized envelope: Connect says so itself.
    if (length > readMaxBytes || start + length > bytes.length) return undefined;
    const data = bytes.subarray(start, start + length);
    offset = start + length;
    if ((flags & COMPRESSED_FLAG) === 0) {
      if (binary) {
        const problem = parseProblem(data, input);
        if (problem !== undefined) return problem;
      }
      continue;
    }
    if (compression === undefined) {
      return "the request message is marked compressed but grpc-encoding names no compression";
    }
    const message = await decompressed(data, compression, readMaxBytes);
    if (message.kind === "pass") return undefined;
    if (message.kind === "broken") return message.reason;
    if (binary) {
      const problem = parseProblem(message.bytes, input);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

type Decompressed =
  | { kind: "ok"; bytes: Uint8Array }
  | { kind: "broken"; reason: string }
  /** Connect will refuse it with a code of its own (too large, corrupt). */
  | { kind: "pass" };

async function decompressed(
  bytes: Uint8Array,
  compression: Compression | undefined,
  readMaxBytes: number,
): Promise<Decompressed> {
  if (compression === undefined) return { kind: "ok", bytes };
  try {
    return { kind: "ok", bytes: await compression.decompress(bytes, readMaxBytes) };
  } catch (error) {
    // zlib errors other than corrupt data (a truncated stream) come out of Connect as Internal.
    if (ConnectError.from(error).code === Code.Internal) {
      return {
        kind: "broken",
        reason: `the request message does not decompress with ${compression.name}`,
      };
    }
    return { kind: "pass" };
  }
}

function parseProblem(bytes: Uint8Array, input: DescMessage): string | undefined {
  try {
    fromBinary(input, bytes);
    return undefined;
  } catch {
    return `the request message is not a valid ${input.typeName} in protobuf binary`;
  }
}

type ReadResult = {
  /** The whole body, or undefined when it was longer than the limit. */
  bytes: Uint8Array | undefined;
  /** The body again, for the handler. */
  body: AsyncIterable<Uint8Array>;
};

/** Reads the body while it stays within `maxBytes`; past that, hands back what was read and the rest. */
async function readUpTo(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<ReadResult> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      // The client went away or broke the stream: let the handler meet the same error.
      return { bytes: undefined, body: failing(chunks, error) };
    }
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > maxBytes) {
      return { bytes: undefined, body: concatIterables(chunks, iterator) };
    }
  }
  const bytes = Buffer.concat(chunks, size);
  return { bytes, body: once(bytes) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function* concatIterables(
  chunks: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
): AsyncIterable<Uint8Array> {
  yield* chunks;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

async function* failing(chunks: readonly Uint8Array[], error: unknown): AsyncIterable<Uint8Array> {
  yield* chunks;
  throw error;
}
