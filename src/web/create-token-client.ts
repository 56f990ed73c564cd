import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { authInterceptor, type ClientAuth, checkBaseUrl } from "../client/auth-interceptor.js";

/** The typed client of `agora.token.v1.TokenService`: `getToken()` and `inspectToken()`. */
export type TokenClient = Client<typeof TokenService>;

export interface TokenClientOptions extends ClientAuth {
  /** Where the service listens, such as `https://tokens.example.com`; its CORS must allow the page. */
  baseUrl: string;
  /** Wire protocol. Default `"connect"`. Browsers cannot speak plain gRPC. */
  protocol?: "connect" | "grpc-web";
  /** Deadline for each call in milliseconds, unless the call sets its own. Default none. */
  timeoutMs?: number;
  /** More interceptors, run after the one that adds the credentials. */
  interceptors?: Interceptor[];
}

/**
 * A browser client of the token service over Connect or gRPC-Web (fetch), sending `apiKey` as
 * `X-API-Key` and `jwt` as `Authorization: Bearer` with every call.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  const auth = authInterceptor(options);
  const transportOptions = {
    baseUrl,
    interceptors: [...(auth ? [auth] : []), ...(options.interceptors ?? [])],
    ...(options.timeoutMs !== undefined && { defaultTimeoutMs: options.timeoutMs }),
  };
  const protocol = options.protocol ?? "connect";
  switch (protocol) {
    case "connect":
      return createClient(TokenService, createConnectTransport(transportOptions));
    case "grpc-web":
      return createClient(TokenService, createGrpcWebTransport(transportOptions));
    default:
      throw new TypeError(`protocol must be "connect" or "grpc-web" (got "${protocol}")`);
  }
}
