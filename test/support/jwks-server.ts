import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";

/** A signing key made with jose, with the public half as a JWK carrying its `kid` and `alg`. */
export interface TestSigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeSigningKey(kid: string, alg = "ES256"): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** Signs `claims` as a JWT with `key`; `exp` defaults to in ten minutes. */
export function signJwt(
  key: TestSigningKey,
  claims: JWTPayload,
  header: { kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/** An identity provider's JWKS endpoint on loopback, whose key set a test can rotate. */
export interface JwksServer {
  url: URL;
  /** How many times the key set was fetched. */
  fetches(): number;
  publish(keys: readonly TestSigningKey[]): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly TestSigningKey[]): Promise<JwksServer> {
  let published = keys;
  let fetches = 0;
  const server = http.createServer((req, res) => {
    fetches++;
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    fetches: () => fetches,
    publish(keys) {
      published = keys;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
