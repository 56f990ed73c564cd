import { resolve } from "node:path";
import ts from "typescript";

export interface ManifestDocument {
  /** Where the document comes from, for messages (a file, or `kubectl kustomize DIR`). */
  source: string;
  manifest: { apiVersion?: unknown; kind?: unknown } & Record<string, unknown>;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * The kubernetes-models module of an API version: the Kubernetes API's own groups, generated from
 * its OpenAPI schema, and the Gateway API's, generated from its CRDs.
 */
function modelModule(apiVersion: string): string {
  return apiVersion.startsWith("gateway.networking.k8s.io/")
    ? `@kubernetes-models/gateway-api/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
}

/**
 * Checks manifests against the Kubernetes API schemas, as the API server does on `kubectl apply`
 * (with kubectl's default `--validate=strict`), and returns what is wrong, one line per problem:
 * - types, formats, enums, bounds and required fields, with the validators kubernetes-models
 *   generates from the OpenAPI schemas;
 * - fields the schema does not have (a typo such as `readinesProbe` is otherwise silently
 *   ignored), with TypeScript's excess-property check against the types generated from the same
 *   schemas, since the OpenAPI schemas themselves allow unknown fields.
 */
export async function schemaProblems(documents: readonly ManifestDocument[]): Promise<string[]> {
  const problems: string[] = [];
  const typed: { document: ManifestDocument; module: string; kind: string }[] = [];
  for (const document of documents) {
    const { apiVersion, kind } = document.manifest;
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      problems.push(`${document.source}: a document without apiVersion and kind`);
      continue;
    }
    const module = `${modelModule(apiVersion)}/${kind}`;
    let model: ModelClass | undefined;
    try {
      model = ((await import(module)) as Record<string, ModelClass>)[kind];
    } catch {
      model = undefined;
    }
    if (model === undefined) {
      problems.push(`${document.source}: no schema for ${apiVersion} ${kind}`);
      continue;
    }
    try {
      new model(document.manifest).validate();
    } catch (error) {
      problems.push(`${document.source}: ${kind}: ${(error as Error).message}`);
    }
    typed.push({ document, module, kind });
  }
  problems.push(...unknownFields(typed));
  return problems;
}

function unknownFields(
  documents: readonly { document: ManifestDocument; module: string; kind: string }[],
): string[] {
  // A file that is never written: the program reads it from memory. It sits in the repository so
  // that the models resolve from node_modules.
  const fileName = resolve(import.meta.dirname, "__manifest-types__.ts");
  const imports: string[] = [];
  const constants: string[] = [];
  const firstLines: number[] = [];
  let line = documents.length;
  documents.forEach(({ document, module, kind }, index) => {
    imports.push(`import type { I${kind} as T${index} } from ${JSON.stringify(module)};`);
    const body = `export const m${index}: T${index} = ${JSON.stringify(document.manifest, null, 1)};`;
    firstLines.push(line);
    line += body.split("\n").length;
    constants.push(body);
  });
  const source = [...imports, ...constants].join("\n");

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, language)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists.call(host, name);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) return message;
    const at = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const index = firstLines.findLastIndex((first) => first <= at);
    const document = documents[index]?.document;
    return document ? `${document.source}: ${message}` : message;
  });
}
