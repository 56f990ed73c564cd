// The Node entry point (`agora-token-service-client/node`, and `agora-token-service/client` of the
// server package): the client factory on connect-node, the generated messages and service, and
// what a caller needs to handle answers, so that one import is enough.
export type { ClientAuth } from "./auth-interceptor.js";
export {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
} from "./create-token-client.js";
export * from "./messages.js";
