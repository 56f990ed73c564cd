import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { authInterceptor, type ClientAuth, checkBaseUrl } from "./auth-interceptor.js";

/** The typed client of `agora.token.v1.TokenService`: `getToken()` and `inspectToken()`. */
export type TokenClient = Client<typeof TokenService>;

export interface TokenClientOptions extends ClientAuth {
  /** Where the service listens, such as `http://localhost:8080`. */
  baseUrl: string;
  /** Wire protocol. Default `"connect"`. `"grpc"` always runs over HTTP/2. */
  protocol?: "connect" | "grpc" | "grpc-web";
  /** HTTP version for `"connect"` and `"grpc-web"`. Default `"1.1"`. */
  httpVersion?: "1.1" | "2";
  /** Deadline for each call in milliseconds, unless the call sets its own. Default none. */
  timeoutMs?: number;
  /** More interceptors, run after the one that adds the credentials. */
  interceptors?: Interceptor[];
}

/**
 * A Node client of the token service over Connect, gRPC or gRPC-Web, sending `apiKey` as
 * `X-API-Key` and `jwt` as `Authorization: Bearer` with every call.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  const auth = authInterceptor(options);
  const common = {
    baseUrl,
    interceptors: [...(auth ? [auth] : []), ...(options.interceptors ?? [])],
    ...(options.timeoutMs !== undefined && { defaultTimeoutMs: options.timeoutMs }),
  };
  const httpVersion = options.httpVersion ?? "1.1";
  const protocol = options.protocol ?? "connect";
  switch (protocol) {
    case "connect":
      return createClient(TokenService, createConnectTransport({ ...common, httpVersion }));
    case "grpc":
      return createClient(TokenService, createGrpcTransport(common));
    case "grpc-web":
      return createClient(TokenService, createGrpcWebTransport({ ...common, httpVersion }));
    default:
      throw new TypeError(`protocol must be "connect", "grpc" or "grpc-web" (got "${protocol}")`);
  }
}
