import { createServer, type ServerOptions } from "../../src/server/create-server.js";
import {
  createTokenService,
  type TokenServiceOptions,
} from "../../src/service/create-token-service.js";
import { SAMPLE } from "./decode-token.js";

export interface TestServer {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

/** The real server on a free loopback port, signing with the sample credentials. */
export async function startTestServer(
  options: Partial<Omit<ServerOptions, "service">> & {
    service?: Partial<TokenServiceOptions>;
  } = {},
): Promise<TestServer> {
  const { service: serviceOptions, ...serverOptions } = options;
  const server = createServer({
    service: createTokenService({ credentials: SAMPLE, ...serviceOptions }),
    cors: { allowOrigin: [] },
    ...serverOptions,
  });
  const { port } = await server.listen(0, "127.0.0.1");
  return { baseUrl: `http://127.0.0.1:${port}`, port, close: () => server.close() };
}
