import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

/**
 * What each folder of src/ may import (besides itself and npm packages), as the README's layout
 * list says: imports run one way, from the contract outward. `gen` is the generated code.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "src/token": [],
  "src/auth": ["src/token", "src/count-noun.ts"],
  "src/rate-limit": ["src/token"],
  "src/service": ["gen", "src/token", "src/auth", "src/rate-limit", "src/count-noun.ts"],
  // Knows nothing of tokens: Node requests in, answers out.
  "src/server/http": ["src/auth"],
  "src/server/transport": ["src/server/http"],
  "src/server/health": ["gen", "src/server/http"],
  "src/server/rpc": ["gen", "src/server/http", "src/service"],
  "src/server/legacy": ["gen", "src/server/http", "src/service", "src/token"],
  "src/observability": [
    "gen",
    "src/server/http",
    "src/service",
    "src/auth",
    "src/redact-secrets.ts",
  ],
  "src/client": ["gen", "src/count-noun.ts"],
  "src/web": ["gen", "src/client", "src/count-noun.ts"],
};

interface SourceFacts {
  imports: string[];
  /** The imports that load a module when it runs (not `import type`). */
  runtimeImports: string[];
  /** `process.env`, `.listen(…)`, `createServer(…)`, where they occur (comments aside). */
  edges: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The relative imports of a file (as repository paths) and its uses of the process's edges. */
function factsOf(file: string): SourceFacts {
  const text = readFileSync(join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const runtimeImports: string[] = [];
  const edges: string[] = [];
  const visit = (node: ts.Node) => {
    const specifier =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
        ? node.moduleSpecifier.text
        : ts.isCallExpression(node) &&
            node.expression.kind === ts.SyntaxKind.ImportKeyword &&
            node.arguments[0] &&
            ts.isStringLiteral(node.arguments[0])
          ? node.arguments[0].text
          : undefined;
    if (specifier?.startsWith(".")) {
      const target = relative(root, resolve(root, dirname(file), specifier)).replace(
        /\.js$/,
        ".ts",
      );
      imports.push(target);
      if (!isTypeOnly(node)) runtimeImports.push(target);
    }
    if (ts.isPropertyAccessExpression(node) && node.getText(source) === "process.env") {
      edges.push("process.env");
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : "";
      if (name === "listen" || name === "createServer") edges.push(`${name}()`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, runtimeImports, edges };
}

/** `import type …`, `import { type A, type B }`, `export type …`: erased before the code runs. */
function isTypeOnly(node: ts.Node): boolean {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly;
  if (!ts.isImportDeclaration(node)) return false;
  const clause = node.importClause;
  if (clause === undefined) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/** The folder rule a file falls under: the longest folder of MAY_IMPORT that holds it. */
function folderOf(file: string): string | undefined {
  return Object.keys(MAY_IMPORT)
    .filter((folder) => file.startsWith(`${folder}/`))
    .sort((a, b) => b.length - a.length)[0];
}

const within = (file: string, place: string) => file === place || file.startsWith(`${place}/`);

describe("the layout of src/", () => {
  const files = sourceFiles("src");

  it("lets imports run one way between its folders, as the README's layout list says", () => {
    const crossings: string[] = [];
    for (const file of files) {
      const folder = folderOf(file);
      if (folder === undefined) continue;
      const allowed = [folder, ...(MAY_IMPORT[folder] ?? [])];
      for (const target of factsOf(file).imports) {
        if (!allowed.some((place) => within(target, place))) crossings.push(`${file} → ${target}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it("gives every file of src/server/ and src/service/ a folder of its kind", () => {
    const loose = files.filter(
      (file) =>
        within(file, "src/server") &&
        folderOf(file) === undefined &&
        !/^src\/server\/[a-z-]+\.ts$/.test(file),
    );
    expect(loose).toEqual([]);
    // At the top of src/server/ only what composes the folders: the embeddable routes, the
    // standalone server, the package entry.
    expect(files.filter((file) => /^src\/server\/[a-z-]+\.ts$/.test(file)).sort()).toEqual([
      "src/server/create-server.ts",
      "src/server/create-token-routes.ts",
      "src/server/index.ts",
      "src/server/token-routes-options.ts",
    ]);
  });

  it("reads no process.env and opens no listening socket in any module agora-token-service/server loads", () => {
    const reached = new Set<string>();
    const pending = ["src/server/index.ts"];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (reached.has(file) || !file.startsWith("src/")) continue;
      reached.add(file);
      pending.push(...factsOf(file).runtimeImports);
    }
    expect(reached.size).toBeGreaterThan(40);
    // The standalone parts stay out of it.
    expect([...reached].filter((file) => within(file, "src/server/transport"))).toEqual([]);
    expect(reached.has("src/server/create-server.ts")).toBe(false);
    expect(reached.has("src/main.ts")).toBe(false);
    const edges = [...reached].flatMap((file) =>
      factsOf(file).edges.map((edge) => `${file}: ${edge}`),
    );
    expect(edges).toEqual([]);
  });

  it("keeps the process's edges where the standalone server needs them", () => {
    // The check above would pass on a tree that had none: these are where they must be found.
    const edges = files.flatMap((file) => factsOf(file).edges.map((edge) => `${file}: ${edge}`));
    expect(edges).toEqual(
      expect.arrayContaining([
        "src/main.ts: process.env",
        "src/server/transport/one-port-listener.ts: createServer()",
        "src/server/transport/one-port-server.ts: listen()",
      ]),
    );
  });
});
