import { readFileSync } from "node:fs";

export interface Instruction {
  /** Upper case: `RUN`, `COPY`… */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  /** Leading `--name=value` options (`--from=build`, `--mount=…`, `--interval=10s`). */
  flags: Record<string, string>;
  /** `args` without the flags. */
  body: string;
}

export interface Stage {
  name: string | undefined;
  /** The image, with ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (enough of the syntax for ours). */
export function parseDockerfile(path: string): Stage[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const logical: string[] = [];
  let current = "";
  for (const line of lines) {
    if (current === "" && /^\s*(#|$)/.test(line)) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((current + line).trim());
    current = "";
  }

  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const text of logical) {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    const flags: Record<string, string> = {};
    let body = rest;
    for (let match = /^--([\w-]+)=(\S+)\s*/.exec(body); match; ) {
      flags[match[1] ?? ""] = match[2] ?? "";
      body = body.slice(match[0].length);
      match = /^--([\w-]+)=(\S+)\s*/.exec(body);
    }
    const instruction = { keyword: keyword.toUpperCase(), args: rest, flags, body };
    if (instruction.keyword === "ARG" && stages.length === 0) {
      const [name = "", value = ""] = body.split("=", 2);
      args[name] = value;
    } else if (instruction.keyword === "FROM") {
      const [image = "", , name] = body.split(/\s+/);
      stages.push({
        name,
        image: image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? ""),
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The argument vector of an exec-form (JSON array) CMD or HEALTHCHECK CMD. */
export function execForm(body: string): string[] {
  const json = body.replace(/^CMD\s+/, "");
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
    throw new Error(`not an exec-form command: ${body}`);
  }
  return parsed;
}

/** `ENV A=1 B=2` → `{ A: "1", B: "2" }`. */
export function envOf(body: string): Record<string, string> {
  return Object.fromEntries(
    body.split(/\s+/).map((pair) => {
      const [name = "", value = ""] = pair.split("=", 2);
      return [name, value];
    }),
  );
}
