import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startApp } from "./support/app-server.js";
import { decodeToken, SAMPLE } from "./support/decode-token.js";

const root = resolve(import.meta.dirname, "..");
const API_KEY = "readme-example-key-0123456789";

/** README blocks that do not talk to a service this test can start, and why. */
const SKIPPED_BLOCKS: Record<string, string> = {
  "npm ci && npm start": "installs, and runs this very suite",
  "APP_ID=<32 hex chars>":
    "npm start rebuilds dist/, which the other tests read while they run (test/cli-rebuild.test.ts runs npm start in a copy)",
  "npm install agora-token-service-client":
    "installs into your own project (test/client-package.test.ts installs the packed package)",
  "npm install agora-token-service express":
    "installs into your own project (test/embed/ runs the embedded service)",
  "TOKEN=$(curl": "calls Agora's Conversational AI API with your customer credentials",
  'API_KEYS="web-backend': "configuration variables only: talks to no service",
  "JWT_JWKS_URL=": "configuration variables only: talks to no service",
  "docker build": "no Docker engine here (test/deploy/runtime-stage.test.ts carries out the image)",
  "# 1. What tokens are signed with.":
    "needs a Kubernetes cluster (test/deploy/kubernetes.test.ts checks the manifests)",
  "kubectl create secret generic agora-token-service-api-keys": "needs a Kubernetes cluster",
  "kubectl create secret tls": "needs a Kubernetes cluster",
  "railway init": "deploys to Railway",
  "npm run dev": "development commands: npm test would run this suite inside itself",
  "npx buf build -o contract": "a release step: writes contract/",
};

/** Commands within run blocks that are not run, and why (tools only when not installed). */
const SKIPPED_COMMANDS: Record<string, () => string | undefined> = {
  "npx agora-token-service serve": () => "serves until stopped, as npm start",
  grpc_health_probe: () => missing("grpc_health_probe"),
  grpcurl: () => missing("grpcurl"),
};

function missing(tool: string): string | undefined {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`]);
    return undefined;
  } catch {
    return `${tool} is not installed here`;
  }
}

interface Block {
  line: number;
  text: string;
}

interface Command {
  text: string;
  /** The comment on the command's own line. */
  inline?: string;
  /** The comment lines right below the command: the output it shows. */
  shown: string[];
}

/** Every ```sh block of the README. */
function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (lines[index] !== "```sh") continue;
    const start = index + 1;
    while (index + 1 < lines.length && lines[index + 1] !== "```") index++;
    blocks.push({ line: start, text: lines.slice(start, index + 1).join("\n") });
    index++;
  }
  return blocks;
}

/**
 * The commands of a block as the shell reads them: a command ends at a newline outside quotes
 * and `$(…)`, backslash-newline continues it, and `#` at the start of a word starts a comment.
 * A comment line right below a command (no blank line between) is that command's shown output.
 */
function commandsOf(block: string): Command[] {
  const commands: Command[] = [];
  let text = "";
  let quote: "'" | '"' | undefined;
  let depth = 0;
  let attach: Command | undefined;
  for (let index = 0; index < block.length; index++) {
    const char = block[index] as string;
    if (quote === undefined && char === "\\" && block[index + 1] === "\n") {
      text += "\\\n";
      index++;
    } else if (quote === undefined && char === "#" && (text === "" || /\s$/.test(text))) {
      const end = block.indexOf("\n", index);
      const note = block.slice(index + 1, end === -1 ? undefined : end).trim();
      index = (end === -1 ? block.length : end) - 1;
      if (text.trim() === "") attach?.shown.push(note);
      else {
        commands.push({ text: text.trim(), inline: note, shown: [] });
        attach = commands.at(-1);
        text = "";
        index++; // the newline that ends the command
      }
    } else if (char === "\n" && quote === undefined && depth === 0) {
      if (text.trim() !== "") {
        commands.push({ text: text.trim(), shown: [] });
        attach = commands.at(-1);
      } else if (block.slice(block.lastIndexOf("\n", index - 1) + 1, index).trim() === "") {
        // A blank line: what follows is no longer the command's output.
        attach = undefined;
      }
      text = "";
    } else {
      if (quote === undefined && (char === "'" || char === '"')) quote = char;
      else if (char === quote && block[index - 1] !== "\\") quote = undefined;
      else if (quote !== "'" && char === "(" && block[index - 1] === "$") depth++;
      else if (quote === undefined && char === ")" && depth > 0) depth--;
      text += char;
    }
  }
  if (text.trim() !== "") commands.push({ text: text.trim(), shown: [] });
  return commands;
}

/** The first balanced `{…}` in a note, parsed, or undefined when it is not JSON. */
function jsonIn(note: string): unknown {
  const start = note.indexOf("{");
  if (start === -1) return undefined;
  let depth = 0;
  for (let index = start; index < note.length; index++) {
    if (note[index] === "{") depth++;
    if (note[index] === "}" && --depth === 0) {
      try {
        return JSON.parse(note.slice(start, index + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Whether `actual` looks like the README's `shown`: same keys, same values but for samples. */
function looksLike(actual: unknown, shown: unknown): boolean {
  if (typeof shown === "string" && typeof actual === "string") {
    if (shown.includes("…")) return actual.startsWith(shown.slice(0, shown.indexOf("…")));
    if (RFC3339.test(shown)) return RFC3339.test(actual);
    return actual === shown;
  }
  if (typeof shown === "number") return typeof actual === "number";
  if (shown === null || typeof shown !== "object" || Array.isArray(shown)) return actual === shown;
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  const keys = (value: object) => Object.keys(value).sort().join(",");
  return (
    keys(actual) === keys(shown) &&
    Object.entries(shown).every(([key, value]) =>
      looksLike((actual as Record<string, unknown>)[key], value),
    )
  );
}

/** A shown line of output as a pattern: quoted values, numbers and `…` stand for any. */
function linePattern(shown: string): RegExp {
  const pattern = shown
    .split(/("[^"]*"|\d+(?:\.\d+)?|…)/)
    .map((part, index) => {
      if (index % 2 === 0) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      if (part === "…") return ".*";
      return part.startsWith('"') ? '"[^"]*"' : "\\d+(?:\\.\\d+)?";
    })
    .join("");
  return new RegExp(`^${pattern}$`);
}

/** What is wrong with a command's output against what the README shows, if anything. */
function outputProblems(command: Command, output: string): string[] {
  const lines = output.split("\n").map((line) => line.trimEnd());
  const documents = [output, ...lines].flatMap((text) => {
    try {
      return [JSON.parse(text) as unknown];
    } catch {
      return [];
    }
  });
  const problems: string[] = [];
  const showsJson = (note: string) => {
    const shown = jsonIn(note);
    if (shown === undefined) return false;
    if (!documents.some((document) => looksLike(document, shown))) {
      problems.push(`README shows ${note}`);
    }
    return true;
  };
  const { inline } = command;
  if (inline !== undefined && !showsJson(inline)) {
    // Otherwise prose, unless it says what the command prints.
    const word = /^prints (\w+)/.exec(inline)?.[1];
    if (word !== undefined && !output.includes(word)) problems.push(`README says it ${inline}`);
  }
  for (const note of command.shown) {
    if (!showsJson(note) && !lines.some((line) => linePattern(note).test(line.trim()))) {
      problems.push(`README shows the line ${note}`);
    }
  }
  // curl exits 0 on a 400 too: an error body is a failed example (no README example shows one).
  const isError = (document: unknown) =>
    typeof document === "object" &&
    document !== null &&
    ("error" in document || ("code" in document && "message" in document));
  if (documents.some(isError)) problems.push("the service answered an error");
  return problems;
}

const readme = readFileSync(join(root, "README.md"), "utf8");
let open: AppServer;
let keyed: AppServer;
let home: string;
let token: string;

beforeAll(async () => {
  [open, keyed] = await Promise.all([
    startApp({ CORS_ALLOW_ORIGIN: "https://app.example.com" }),
    startApp({ API_KEYS: `readme:${API_KEY}` }),
  ]);
  home = mkdtempSync(join(tmpdir(), "readme-examples-"));
  const minted = await fetch(`${open.baseUrl}/getToken`, {
    method: "POST",
    body: JSON.stringify({ tokenType: "rtc", channel: "readme", role: "publisher", uid: "42" }),
  });
  token = ((await minted.json()) as { token: string }).token;
});
afterAll(async () => {
  await Promise.all([open?.close(), keyed?.close()]);
  if (home) rmSync(home, { recursive: true, force: true });
});

/**
 * The command as a reader runs it against this test's services and with a real token. `npx
 * agora-token-service` is the bin it runs, `dist/src/cli.js`, called directly: npm's own start-up
 * would cost two seconds a command (test/cli-rebuild.test.ts runs the command through npx).
 */
function substitute(command: string): string {
  return command
    .replaceAll("npx agora-token-service", `node ${join(root, "dist/src/cli.js")}`)
    .replaceAll("http://localhost:8080", open.baseUrl)
    .replaceAll("localhost:8080", `127.0.0.1:${open.port}`)
    .replaceAll("http://tokens:8080", keyed.baseUrl)
    .replaceAll("007eJx…", token);
}

function run(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    execFile(
      "bash",
      ["-c", command],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          npm_config_cache: join(home, ".npm"),
          npm_config_update_notifier: "false",
          APP_ID: SAMPLE.appId,
          APP_CERTIFICATE: SAMPLE.appCertificate,
          KEY: API_KEY,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolveRun({ code, output: code === 0 ? stdout : `${stdout}${stderr}` });
      },
    );
  });
}

describe("the README's shell examples", () => {
  const blocks = shellBlocks(readme);
  const skipOf = (block: Block) =>
    Object.keys(SKIPPED_BLOCKS).find((start) => block.text.startsWith(start));

  it("are each run below or skipped for a stated reason", () => {
    expect(blocks.length).toBeGreaterThan(20);
    // Every skip names one block, so that a changed README cannot leave a stale excuse.
    for (const start of Object.keys(SKIPPED_BLOCKS)) {
      expect(
        blocks.filter((block) => block.text.startsWith(start)),
        start,
      ).toHaveLength(1);
    }
    expect(blocks.filter((block) => skipOf(block) === undefined).length).toBeGreaterThan(10);
  });

  it("splits a block into commands as the shell does", () => {
    const commands = commandsOf(
      [
        'curl -d \'{"a":1,',
        '  "b":2}\' \\',
        '  http://x   # {"a":1}',
        "# next line",
        "",
        "# prose",
        'T=$(curl -s \\\n  "x # y")',
      ].join("\n"),
    );
    expect(commands).toEqual([
      {
        text: 'curl -d \'{"a":1,\n  "b":2}\' \\\n  http://x',
        inline: '{"a":1}',
        shown: ["next line"],
      },
      { text: 'T=$(curl -s \\\n  "x # y")', shown: [] },
    ]);
  });

  it("run as written against a started service, exit 0 and print what they show", async () => {
    const failures: string[] = [];
    let ran = 0;
    for (const block of blocks) {
      if (skipOf(block) !== undefined) continue;
      const commands = commandsOf(block.text).filter((command) => {
        const skip = Object.entries(SKIPPED_COMMANDS).find(([start]) =>
          command.text.startsWith(start),
        );
        return skip?.[1]() === undefined;
      });
      // The commands of one block are independent; the blocks run in README order.
      const results = await Promise.all(commands.map((command) => run(substitute(command.text))));
      for (const [index, command] of commands.entries()) {
        const { code, output } = results[index] ?? { code: -1, output: "" };
        ran++;
        const where = `README line ${block.line}: ${command.text.split("\n")[0]}`;
        if (code !== 0) failures.push(`${where}: exit ${code}\n${output}`);
        else {
          for (const problem of outputProblems(command, output)) {
            failures.push(`${where}: ${problem}, got\n${output.slice(0, 600)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(30);
  }, 180_000);

  it("mint real tokens with what the Connect example asks for", async () => {
    const connect = commandsOf(
      blocks.find((block) => block.text.includes("TokenService/GetToken"))?.text ?? "",
    )[0];
    const { code, output } = await run(substitute(connect?.text ?? "false"));
    expect(code).toBe(0);
    const decoded = decodeToken((JSON.parse(output) as { token: string }).token);
    expect(decoded.signatureValid).toBe(true);
    expect(decoded.services[0]).toMatchObject({
      type: 1,
      channel: "my-video-channel",
      uid: "user123",
    });
  });
});
