// `npm run build`: a clean dist/ with the compiled service, clients and CLI (with declarations),
// and the bundled token playground. A clean start keeps deleted sources out of the package.
// `npm run build -- --outDir DIR` builds into DIR instead (the container test uses it).
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
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

// tsc writes new files without the executable bit. `npx agora-token-service` runs the bin through
// a link npm made (and made executable) once, so each rebuild (`npm start`, `npm pack`) must set
// it again; the packed tarball then carries it too.
const { bin } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
for (const path of Object.values(bin)) {
  chmodSync(join(outDir, relative("dist", path)), 0o755);
}
