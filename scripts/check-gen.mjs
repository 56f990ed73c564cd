// Fails when `buf generate` would change gen/: the committed clients must match proto/.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "check-gen-"));
try {
  // scripts/ holds the OpenAPI plugin that buf.gen.yaml runs.
  for (const entry of ["proto", "buf.yaml", "buf.gen.yaml", "scripts"]) {
    cpSync(join(root, entry), join(work, entry), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(work, "node_modules"));
  const bin = join(root, "node_modules", ".bin");
  execFileSync(join(bin, "buf"), ["generate"], {
    cwd: work,
    stdio: "inherit",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const expected = listFiles(join(work, "gen"));
  const actual = listFiles(join(root, "gen"));
  const differing = [...new Set([...expected.keys(), ...actual.keys()])].filter(
    (file) => expected.get(file) !== actual.get(file),
  );
  if (differing.length > 0) {
    console.error(
      `gen/ is stale; run "npm run generate" and commit. Differs: ${differing.join(", ")}`,
    );
    process.exit(1);
  }
  console.log(`gen/ is up to date (${expected.size} files)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function listFiles(dir) {
  const files = new Map();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), readFileSync(path, "utf8"));
  }
  return files;
}
