import type { AddressInfo } from "node:net";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import express from "express";
import { type FastifyInstance, fastify } from "fastify";
import {
  createTokenRoutes,
  type TokenRoutes,
  type TokenRoutesOptions,
} from "../../src/server/create-token-routes.js";
import { memoryLogger } from "./memory-logger.js";

/** An existing backend with the token routes mounted in it, on a free loopback port. */
export interface Host {
  name: string;
  baseUrl: string;
  port: number;
  tokens: TokenRoutes;
  /** Every log line of the token routes so far, parsed. */
  logLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** The token routes' options with a logger that keeps its lines in memory. */
function withMemoryLogger(options: TokenRoutesOptions) {
  const { logger, logLines } = memoryLogger();
  return { options: { logger, ...options }, logLines };
}

/**
 * An Express app as the README shows it: the token routes first, then connect-express, then the
 * app's own JSON body parser and routes (`POST /rooms`, `GET /hello`).
 */
export async function startExpressHost(
  tokenOptions: TokenRoutesOptions,
  { bodyParserFirst = false }: { bodyParserFirst?: boolean } = {},
): Promise<Host> {
  const { options, logLines } = withMemoryLogger(tokenOptions);
  const tokens = createTokenRoutes(options);
  const app = express();
  if (bodyParserFirst) app.use(express.json());
  app.use(tokens.middleware);
  app.use(expressConnectMiddleware(tokens.connect));
  app.use(express.json());
  app.post("/rooms", (req, res) => {
    res.status(201).json({ room: String(req.body?.name ?? "lobby") });
  });
  app.get("/hello", (_req, res) => {
    res.json({ hello: "express" });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: "express",
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    tokens,
    logLines,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tokens.close();
    },
  };
}

/**
 * A Fastify app as the README shows it: the token routes' onRequest hook, connect-fastify, and
 * the app's own routes. `http2: true` serves cleartext HTTP/2 only, as Fastify does.
 */
export async function startFastifyHost(
  tokenOptions: TokenRoutesOptions,
  { http2 = false }: { http2?: boolean } = {},
): Promise<Host> {
  const { options, logLines } = withMemoryLogger(tokenOptions);
  const tokens = createTokenRoutes(options);
  // One type for both: the routes and hooks below are the same whichever server Fastify runs.
  const app = (http2 ? fastify({ http2: true }) : fastify()) as unknown as FastifyInstance;
  app.addHook("onRequest", tokens.fastifyOnRequest);
  await app.register(fastifyConnectPlugin, tokens.connect);
  app.post("/rooms", async (request, reply) => {
    const { name } = (request.body ?? {}) as { name?: unknown };
    return reply.code(201).send({ room: String(name ?? "lobby") });
  });
  app.get("/hello", async () => ({ hello: "fastify" }));
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  // Clients keep their HTTP/2 sessions open, and a closing Fastify waits for them.
  const sessions = new Set<{ destroy(): void }>();
  app.server.on(
    "session",
    (session: { destroy(): void; once(event: "close", f: () => void): void }) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    },
  );
  return {
    name: http2 ? "fastify (h2c)" : "fastify",
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    tokens,
    logLines,
    async close() {
      for (const session of sessions) session.destroy();
      await app.close();
      await tokens.close();
    },
  };
}
