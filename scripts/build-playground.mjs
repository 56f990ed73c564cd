// Bundles the token playground (playground/*.ts, using the package's ./web client) with esbuild
// into dist/playground: index.html, main.js, main.css. The server serves them at GET /.
import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");

/** Builds the playground into `outdir` (default dist/playground). */
export async function buildPlayground(outdir = join(root, "dist", "playground")) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { main: join(root, "playground", "main.ts") },
    outdir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  copyFileSync(join(root, "playground", "index.html"), join(outdir, "index.html"));
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await buildPlayground();
}
