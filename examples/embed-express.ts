// The token service inside an existing Express app, on the app's own port:
//   APP_ID=<32 hex> APP_CERTIFICATE=<32 hex> TOKEN_API_KEY=<16+ chars> npx tsx examples/embed-express.ts
// Connect and gRPC-Web (Express serves no HTTP/2, so no gRPC), the legacy POST /getToken and GET
// routes, /healthz and /readyz, beside the app's own routes.
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import { createTokenRoutes } from "agora-token-service/server";
import express from "express";

const tokens = createTokenRoutes({
  credentials: {
    appId: process.env.APP_ID ?? "",
    appCertificate: process.env.APP_CERTIFICATE ?? "",
  },
  // Service callers send X-API-Key; without keys (and JWTs) anyone could mint any token.
  apiKeys: [{ name: "backend", key: process.env.TOKEN_API_KEY ?? "" }],
  rateLimit: { perMinute: 120, burst: 20 },
  cors: { allowOrigin: ["http://localhost:5173"] },
});

const app = express();
// First, before any body parser: CORS of the token routes, the legacy routes, health.
app.use(tokens.middleware);
app.use(expressConnectMiddleware(tokens.connect));
// The app's own routes, with its own body parsers, after the token routes.
app.use(express.json());
app.post("/rooms", (req, res) => {
  res.status(201).json({ room: String(req.body?.name ?? "lobby") });
});

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : undefined;
  console.log(JSON.stringify({ msg: "listening", port }));
});
process.once("SIGTERM", () => {
  server.close();
  void tokens.close();
});
