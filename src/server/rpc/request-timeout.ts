import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import type { RpcWire } from "./rpc-wire.js";

export type RequestTimeout =
  | { kind: "none" }
  | { kind: "ok"; timeoutMs: number }
  | { kind: "invalid"; error: ConnectError };

/**
 * The longest timer Node sets (about 24.8 days); it fires a longer one at once. No call here
 * lasts that long, so a longer deadline is no deadline.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

const invalidTimeout = {
  connect: "connect-timeout-ms must be a whole number of milliseconds with at most 10 digits",
  grpc: "grpc-timeout must be at most 8 digits followed by one unit of H M S m u or n",
} as const;

/**
 * The client's deadline from the protocol's timeout header, parsed by connect-es's own parser
 * (`Connect-Timeout-Ms`, or `Grpc-Timeout` for gRPC and gRPC-Web). A malformed one is the
 * client's `invalid_argument`, worded without the characters gRPC clients mangle.
 */
export function requestTimeoutOf(wire: RpcWire, value: string | null): RequestTimeout {
  if (value === null) return { kind: "none" };
  const parsed =
    wire.protocol === "connect"
      ? parseConnectTimeout(value, Number.MAX_SAFE_INTEGER)
      : parseGrpcTimeout(value, Number.MAX_SAFE_INTEGER);
  if (parsed.error !== undefined || parsed.timeoutMs === undefined) {
    const message = invalidTimeout[wire.protocol === "connect" ? "connect" : "grpc"];
    return { kind: "invalid", error: new ConnectError(message, Code.InvalidArgument) };
  }
  if (parsed.timeoutMs > MAX_TIMER_MS) return { kind: "none" };
  return { kind: "ok", timeoutMs: parsed.timeoutMs };
}
