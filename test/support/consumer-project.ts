import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Type-checks `source` as `consumer.ts` of an installed project, with that project's own
 * TypeScript: strict, NodeNext, and the libraries' declarations checked too. connect-es's
 * declarations name DOM types (HeadersInit), as in every project of it. Resolves to tsc's
 * output: `{ stdout: "", stderr: "" }` when clean.
 */
export async function typeCheckConsumer(project: string, source: string) {
  writeFileSync(join(project, "consumer.ts"), source);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023", "DOM"],
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files: ["consumer.ts"],
    }),
  );
  const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
  return run(process.execPath, [tsc, "-p", "."], { cwd: project }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout, failed: true }),
  );
}
