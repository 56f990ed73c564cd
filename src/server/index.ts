// The package's `./server` entry point (`agora-token-service/server`): the token service for a
// backend that already runs Express or Fastify. It reads no environment and opens no port.
export { ConfigError } from "../load-config.js";
export {
  type AdapterRequest,
  createTokenRoutes,
  type FastifyHookReply,
  type FastifyHookRequest,
  type TokenConnectOptions,
  type TokenRoutes,
  type TokenRoutesOptions,
} from "./create-token-routes.js";
export type { Readiness, ReadinessCheck } from "./health/readiness.js";
export type { TokenRoutesSettings } from "./token-routes-options.js";
