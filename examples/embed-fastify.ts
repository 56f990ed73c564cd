// The token service inside an existing Fastify app, on the app's own port:
//   APP_ID=<32 hex> APP_CERTIFICATE=<32 hex> TOKEN_API_KEY=<16+ chars> npx tsx examples/embed-fastify.ts
// Connect and gRPC-Web over HTTP/1.1, the legacy POST /getToken and GET routes, /healthz and
// /readyz, beside the app's own routes. With fastify({ http2: true }) the port speaks cleartext
// HTTP/2 only, and gRPC clients can call it too.
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { createTokenRoutes } from "agora-token-service/server";
import { fastify } from "fastify";

const app = fastify({ logger: true });
const tokens = createTokenRoutes({
  credentials: {
    appId: process.env.APP_ID ?? "",
    appCertificate: process.env.APP_CERTIFICATE ?? "",
  },
  // Service callers send X-API-Key; without keys (and JWTs) anyone could mint any token.
  apiKeys: [{ name: "backend", key: process.env.TOKEN_API_KEY ?? "" }],
  rateLimit: { perMinute: 120, burst: 20 },
  cors: { allowOrigin: ["http://localhost:5173"] },
  logger: app.log,
});

// Before Fastify parses bodies: CORS of the token routes, the legacy routes, health.
app.addHook("onRequest", tokens.fastifyOnRequest);
await app.register(fastifyConnectPlugin, tokens.connect);
app.addHook("onClose", () => tokens.close());
// The app's own routes.
app.post("/rooms", async (request, reply) => {
  const { name } = (request.body ?? {}) as { name?: unknown };
  return reply.code(201).send({ room: String(name ?? "lobby") });
});

await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
const address = app.server.address();
console.log(
  JSON.stringify({
    msg: "listening",
    port: typeof address === "object" && address ? address.port : undefined,
  }),
);
process.once("SIGTERM", () => void app.close());
