import type { NodeRequest } from "../server/http/node-types.js";

/** How a request reached the service; `http` is an operational endpoint (health, metrics). */
export type Protocol = "grpc" | "grpc-web" | "connect" | "legacy" | "http";

/** `/package.Service/Method`: the path of every RPC, whichever protocol carries it. */
const RPC_PATH = /^\/[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/**
 * The protocol of a request, from its content type and path as Connect tells them apart:
 * `application/grpc-web…` and `application/grpc…` are gRPC-Web and gRPC, any other request to an
 * RPC path is Connect, and the rest is a legacy route unless it is one of `opsPaths`.
 */
export function protocolOf(
  req: NodeRequest,
  path: string,
  opsPaths: ReadonlySet<string>,
): Protocol {
  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  if (RPC_PATH.test(path)) return "connect";
  if (opsPaths.has(path)) return "http";
  return "legacy";
}
