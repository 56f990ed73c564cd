import type { BinaryReadOptions, JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionGzip } from "@connectrpc/connect-node";

/**
 * The request compressions accepted, and offered for responses, on every RPC path: gzip only.
 * Brotli is left out because its cost cannot be bounded by the size of the message: a decoder
 * fills a window of up to 16 MiB (that a 14-byte body declares) before it yields its first
 * byte, however small the output limit (45 ms of CPU here, against 0.2 ms for the worst gzip).
 */
export const rpcCompressions: readonly Compression[] = [compressionGzip];

/** Responses smaller than this are sent uncompressed (connect-es's default, made explicit). */
export const compressMinBytes = 1024;

/**
 * Proto3 JSON options on every RPC path. Unknown fields are refused (see
 * `decodeRequestMessage`), where connect-es would skip them.
 */
export const rpcJsonOptions: Readonly<Partial<JsonReadOptions & JsonWriteOptions>> = {
  ignoreUnknownFields: false,
};

/** Unknown fields of a binary request are skipped, not kept: nothing serializes a request again. */
export const rpcBinaryOptions: Readonly<Partial<BinaryReadOptions>> = { readUnknownFields: false };
