// `npm run build`: a clean dist/ with the compiled service, clients and CLI (with declarations),
// and the bundled token playground. A clean start keeps deleted sources out of the package.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildPlayground } from "./build-playground.mjs";

const root = resolve(import.meta.dirname, "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
await buildPlayground();
