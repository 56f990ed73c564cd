import {
  headerStreamAcceptEncoding as connectStreamAcceptEncoding,
  headerStreamEncoding as connectStreamEncoding,
  headerTimeout as connectTimeout,
  headerUnaryAcceptEncoding as connectUnaryAcceptEncoding,
  headerUnaryEncoding as connectUnaryEncoding,
  parseContentType as parseConnectContentType,
} from "@connectrpc/connect/protocol-connect";
import {
  headerAcceptEncoding as grpcAcceptEncoding,
  headerEncoding as grpcEncoding,
  headerTimeout as grpcTimeout,
  parseContentType as parseGrpcContentType,
} from "@connectrpc/connect/protocol-grpc";
import { parseContentType as parseGrpcWebContentType } from "@connectrpc/connect/protocol-grpc-web";

/**
 * How an RPC request travels, read from its content type by connect-es's own parsers, so that
 * this server and connect-node never disagree on which protocol a request speaks.
 */
export type RpcWire =
  | { protocol: "connect"; framing: "unary" | "envelopes"; binary: boolean; headers: WireHeaders }
  | { protocol: "grpc"; framing: "envelopes"; binary: boolean; headers: WireHeaders }
  | { protocol: "grpc-web"; framing: "envelopes"; binary: boolean; headers: WireHeaders };

/** The protocol's names for the request headers this server reads before connect-node does. */
export interface WireHeaders {
  encoding: string;
  acceptEncoding: string;
  timeout: string;
}

const connectUnaryHeaders: WireHeaders = {
  encoding: connectUnaryEncoding.toLowerCase(),
  acceptEncoding: connectUnaryAcceptEncoding.toLowerCase(),
  timeout: connectTimeout.toLowerCase(),
};
const connectStreamHeaders: WireHeaders = {
  encoding: connectStreamEncoding.toLowerCase(),
  acceptEncoding: connectStreamAcceptEncoding.toLowerCase(),
  timeout: connectTimeout.toLowerCase(),
};
const grpcHeaders: WireHeaders = {
  encoding: grpcEncoding.toLowerCase(),
  acceptEncoding: grpcAcceptEncoding.toLowerCase(),
  timeout: grpcTimeout.toLowerCase(),
};

/**
 * The wire of a POST with this content type, or undefined when no protocol this server speaks
 * uses it (connect-node then answers 415). gRPC-Web text (base64) is one connect-node refuses.
 */
export function rpcWireOf(contentType: string | null | undefined): RpcWire | undefined {
  if (!contentType) return undefined;
  const grpcWeb = parseGrpcWebContentType(contentType);
  if (grpcWeb) {
    if (grpcWeb.text) return undefined;
    return {
      protocol: "grpc-web",
      framing: "envelopes",
      binary: grpcWeb.binary,
      headers: grpcHeaders,
    };
  }
  const grpc = parseGrpcContentType(contentType);
  if (grpc)
    return { protocol: "grpc", framing: "envelopes", binary: grpc.binary, headers: grpcHeaders };
  const connect = parseConnectContentType(contentType);
  if (connect) {
    return connect.stream
      ? {
          protocol: "connect",
          framing: "envelopes",
          binary: connect.binary,
          headers: connectStreamHeaders,
        }
      : {
          protocol: "connect",
          framing: "unary",
          binary: connect.binary,
          headers: connectUnaryHeaders,
        };
  }
  return undefined;
}

/** `/package.Service/Method`: the path of every RPC, whichever protocol carries it. */
export const RPC_PATH = /^\/([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\/([A-Za-z_]\w*)$/;
