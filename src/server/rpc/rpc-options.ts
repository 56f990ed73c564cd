import type { JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

/** The request compressions accepted, and offered for responses, on every RPC path. */
export const rpcCompressions: readonly Compression[] = [compressionGzip, compressionBrotli];

/** Responses smaller than this are sent uncompressed (connect-es's default, made explicit). */
export const compressMinBytes = 1024;

/**
 * Proto3 JSON options on every RPC path. Unknown fields are refused (see
 * `decodeRequestMessage`), where connect-es would skip them.
 */
export const rpcJsonOptions: Readonly<Partial<JsonReadOptions & JsonWriteOptions>> = {
  ignoreUnknownFields: false,
};
