// `npm run build`: a clean dist/ with the compiled service, clients and CLI (with declarations),
// and the bundled token playground. A clean start keeps deleted sources out of the package.
// `npm run build -- --outDir DIR` builds into DIR instead (the container test uses it).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildPlayground } from "./build-playground.mjs";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { outDir: { type: "string" } } });
const outDir = resolve(root, values.outDir ?? "dist");
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.build.json",
    "--outDir",
    outDir,
  ],
  { cwd: root, stdio: "inherit" },
);
await buildPlayground(join(outDir, "playground"));
