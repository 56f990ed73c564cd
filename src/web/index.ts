// The browser entry point (`agora-token-service-client/web`, and `agora-token-service/web` of the
// server package): the client factory on connect-web, the generated messages and service, and
// what a caller needs to handle answers. Nothing here imports connect-node.
export type { ClientAuth } from "../client/auth-interceptor.js";
export * from "../client/messages.js";
export {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
} from "./create-token-client.js";
