import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { HttpRoute } from "./http-route.js";

/** The bundled token playground, as `npm run build` writes it to dist/playground. */
export interface PlaygroundAssets {
  html: Buffer;
  script: Buffer;
  style: Buffer;
}

// From dist/src/server/http (the built package) and from src/server/http (tsx): both find
// dist/playground (from src/server/http the first one is the unbuilt source folder, which has no
// main.js).
const candidateDirs = ["../../../playground/", "../../../dist/playground/"];

/** Reads the built playground, or returns `undefined` when it has not been built. */
export function loadPlaygroundAssets(
  dir = candidateDirs
    .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
    .find((candidate) => existsSync(`${candidate}main.js`)),
): PlaygroundAssets | undefined {
  if (dir === undefined) return undefined;
  const read = (name: string) => readFileSync(`${dir.endsWith("/") ? dir : `${dir}/`}${name}`);
  try {
    return { html: read("index.html"), script: read("main.js"), style: read("main.css") };
  } catch {
    return undefined;
  }
}

/**
 * The page only loads its own script and style, and calls only its own origin and the services
 * the operator listed: a link such as `/?server=https://elsewhere.example` cannot make it send
 * what a person types (an API key, a JWT) to a host nobody chose.
 */
function contentSecurityPolicy(serviceOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", ...serviceOrigins].join(" "),
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export interface PlaygroundRouteOptions {
  /** Origins of other token services the page may call (`PLAYGROUND_SERVICE_ORIGINS`). */
  serviceOrigins?: readonly string[];
}

/**
 * Serves the token playground: `GET /` is the page, `/playground/main.js` and `.css` its bundle,
 * and `/favicon.ico`, which every browser asks for, an empty answer (204) rather than a 404 in
 * the console. Other paths are left to the next route.
 */
export function playgroundRoute(
  assets: PlaygroundAssets,
  { serviceOrigins = [] }: PlaygroundRouteOptions = {},
): HttpRoute {
  const policy = contentSecurityPolicy(serviceOrigins);
  const files = new Map([
    ["/", { body: assets.html, type: "text/html; charset=utf-8" }],
    ["/playground/main.js", { body: assets.script, type: "text/javascript; charset=utf-8" }],
    ["/playground/main.css", { body: assets.style, type: "text/css; charset=utf-8" }],
  ]);
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (path === "/favicon.ico") {
      res.writeHead(204, { "Cache-Control": "max-age=86400" });
      res.end();
      return true;
    }
    const file = files.get(path);
    if (file === undefined) return false;
    res.writeHead(200, {
      "Content-Type": file.type,
      "Content-Length": file.body.length,
      "Content-Security-Policy": policy,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    });
    if (req.method === "HEAD") res.end();
    else res.end(file.body);
    return true;
  };
}
