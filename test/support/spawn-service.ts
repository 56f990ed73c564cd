import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "../..");

export interface SpawnedService {
  process: ChildProcess;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Runs `src/main.ts` as a real process with `env` (in `cwd`, the repository by default), and
 * waits until it listens.
 */
export async function spawnService(
  env: Record<string, string> = {},
  { cwd = root }: { cwd?: string } = {},
): Promise<SpawnedService> {
  const tsx = pathToFileURL(resolve(root, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", tsx, resolve(root, "src/main.ts")], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const port = await new Promise<number>((resolvePort, reject) => {
    const check = () => {
      const match = /"port":(\d+)/.exec(output);
      if (match) resolvePort(Number(match[1]));
    };
    child.stdout.on("data", check);
    exited.then((code) =>
      reject(new Error(`service exited with ${code} before listening:\n${output}`)),
    );
  });
  return { process: child, port, output: () => output, exited };
}
