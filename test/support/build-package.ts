import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Vitest global setup: builds dist/ (compiled package and playground bundle) once before any test,
 * so tests that pack the package or serve the playground never see a stale or missing build, and
 * nothing rebuilds it while tests run.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, "../..");
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
}
