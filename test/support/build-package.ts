import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Vitest global setup: builds dist/ (compiled package and playground bundle) and dist-client/ (the
 * client package) once before any test, so tests that pack the packages or serve the playground
 * never see a stale or missing build, and nothing rebuilds them while tests run.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, "../..");
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/build-client-package.mjs"], {
    cwd: root,
    stdio: "inherit",
  });
}
