import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, compressedFlag } from "@connectrpc/connect/protocol";
import type { BodyPrefix } from "../http/read-node-body.js";

export type Framing = "unary" | "envelopes";

export type MessageOfBody =
  | { kind: "ok"; bytes: Uint8Array; compressed: boolean }
  | { kind: "refused"; error: ConnectError };

const ENVELOPE_HEADER_BYTES = 5;

/**
 * How much of a body to read before judging it: one message of `maxBytes`, and for enveloped
 * bodies its 5-byte header. Every RPC here takes exactly one request message, so nothing beyond
 * it is ever needed, and nothing beyond it is read.
 */
export function bodyReadLimit(framing: Framing, maxBytes: number): number {
  return framing === "unary" ? maxBytes : maxBytes + ENVELOPE_HEADER_BYTES;
}

/**
 * The one request message of a body, by the rules every path shares: a unary Connect body is
 * the message; an enveloped body (gRPC, gRPC-Web, Connect streaming) is exactly one envelope
 * whose flags are 0 or "compressed", announcing at most `maxBytes`. Anything else is refused
 * before a byte is decompressed or parsed.
 */
export function messageOfBody(
  body: BodyPrefix,
  framing: Framing,
  encoded: boolean,
  maxBytes: number,
): MessageOfBody {
  if (framing === "unary") {
    if (!body.complete) {
      const declared = body.declaredLength;
      return refused(
        declared !== undefined && declared > maxBytes
          ? tooLarge(`${declared} bytes`, maxBytes)
          : tooLarge(`at least ${maxBytes + 1} bytes`, maxBytes),
      );
    }
    return { kind: "ok", bytes: body.bytes, compressed: encoded };
  }
  const { bytes } = body;
  if (bytes.length === 0) return invalid("the request carries no message");
  if (bytes.length < ENVELOPE_HEADER_BYTES) {
    return invalid("the request message frame is cut short in its 5-byte header");
  }
  const flags = bytes[0] ?? 0;
  if ((flags & ~compressedFlag) !== 0) {
    const hex = `0x${flags.toString(16).padStart(2, "0")}`;
    return invalid(
      `the request message frame has flags ${hex} but only 0x00 or 0x01 (compressed) are allowed`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (length > maxBytes) return refused(tooLarge(`${length} bytes`, maxBytes));
  const end = ENVELOPE_HEADER_BYTES + length;
  if (end > bytes.length) {
    return invalid(
      `the request message frame announces ${length} bytes but carries ${bytes.length - ENVELOPE_HEADER_BYTES}`,
    );
  }
  if (end < bytes.length || !body.complete) {
    return invalid("the request must carry exactly one message frame");
  }
  return {
    kind: "ok",
    bytes: bytes.subarray(ENVELOPE_HEADER_BYTES, end),
    compressed: (flags & compressedFlag) !== 0,
  };
}

/**
 * The message decompressed, never to more than `maxBytes`. `encodingHeader` names the header
 * that should have named the compression, for the message when none did.
 */
export async function decompressMessage(
  bytes: Uint8Array,
  compression: Compression | undefined,
  encodingHeader: string,
  maxBytes: number,
): Promise<MessageOfBody> {
  if (compression === undefined) {
    return invalid(
      `the request message is marked compressed but ${encodingHeader} names no compression`,
    );
  }
  try {
    return { kind: "ok", bytes: await compression.decompress(bytes, maxBytes), compressed: false };
  } catch (error) {
    if (ConnectError.from(error).code === Code.ResourceExhausted) {
      return refused(
        new ConnectError(
          `the request message is more than ${maxBytes} bytes once decompressed but MAX_BODY_BYTES allows at most ${maxBytes}`,
          Code.ResourceExhausted,
        ),
      );
    }
    return invalid(`the request message does not decompress with ${compression.name}`);
  }
}

function tooLarge(size: string, maxBytes: number): ConnectError {
  return new ConnectError(
    `the request message is ${size} but MAX_BODY_BYTES allows at most ${maxBytes}`,
    Code.ResourceExhausted,
  );
}

function invalid(reason: string): MessageOfBody {
  return refused(new ConnectError(reason, Code.InvalidArgument));
}

function refused(error: ConnectError): MessageOfBody {
  return { kind: "refused", error };
}
