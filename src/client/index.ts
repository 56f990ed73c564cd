// The Node entry point of the package (`agora-token-service/client`): the client factory and the
// generated messages and service, so that one import is enough.
export * from "../../gen/agora/token/v1/token_service_pb.js";
export type { ClientAuth } from "./auth-interceptor.js";
export {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
} from "./create-token-client.js";
