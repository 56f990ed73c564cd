// The browser entry point of the package (`agora-token-service/web`): the client factory on
// connect-web and the generated messages and service.
export * from "../../gen/agora/token/v1/token_service_pb.js";
export type { ClientAuth } from "../client/auth-interceptor.js";
export {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
} from "./create-token-client.js";
