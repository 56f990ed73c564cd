#!/usr/bin/env node
// The `agora-token-service` command. Like main.ts, an edge that reads process.env.
import { existsSync } from "node:fs";
import { runCli } from "./cli/run-cli.js";

// As the service does: a .env file in the working directory; real env variables win.
if (existsSync(".env")) process.loadEnvFile(".env");

/** A token is at most 16384 characters; more than this on stdin is not a token. */
const MAX_STDIN_BYTES = 64 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_STDIN_BYTES) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (output) => process.stdout.write(output),
  stderr: (output) => process.stderr.write(output),
  readStdin,
  serve: async () => {
    await import("./main.js");
  },
});
