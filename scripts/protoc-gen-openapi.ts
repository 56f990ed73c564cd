// A buf plugin (`buf generate`, see buf.gen.yaml): the OpenAPI 3.1 description of the Connect
// JSON form of every unary RPC in proto/, with each message, field, enum and value described by
// its proto comment. Nothing maintained that runs on Node does this (protoc-gen-connect-openapi is
// Go), and the proto is the contract: the document must not be written twice by hand.
// Writes gen/openapi/rpc_openapi.ts; the legacy routes' part is added by the service
// (src/server/legacy/openapi-document.ts).
import {
  type AnyDesc,
  create,
  createFileRegistry,
  type DescEnum,
  type DescField,
  type DescMessage,
  ScalarType,
} from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { getComments, type Plugin, runNodeJs } from "@bufbuild/protoplugin";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

type JsonSchema = Record<string, unknown>;

/** A proto comment (leading, else trailing) as one paragraph: the lines trimmed, joined by spaces. */
function commentText(desc: AnyDesc): string {
  // protoplugin 2.13 (the last on Node 20) brings its own @bufbuild/protobuf: its descriptor
  // types differ from ours by version only; getComments reads the same fields of either.
  const { leading, trailing } = getComments(desc as unknown as Parameters<typeof getComments>[0]);
  return (leading ?? trailing ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

const described = (schema: JsonSchema, description: string): JsonSchema =>
  description === "" ? schema : { ...schema, description };

/** `#/components/schemas/<full name>`: every message and enum under its proto name. */
const ref = (typeName: string): JsonSchema => ({ $ref: `#/components/schemas/${typeName}` });

/** proto3 JSON of the scalars the protos use; others fail the generation rather than guess. */
function scalarSchema(scalar: ScalarType, where: string): JsonSchema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", minimum: -2147483648, maximum: 2147483647 };
    default:
      throw new Error(`${where}: scalar type ${ScalarType[scalar]} has no JSON schema here yet`);
  }
}

/** The JSON schema of a message type that a field refers to (well-known types by their JSON). */
function messageRef(message: DescMessage): JsonSchema {
  if (message.typeName === "google.protobuf.Timestamp") {
    return {
      type: "string",
      format: "date-time",
      description: "RFC 3339, in UTC (`2026-11-27T22:21:44Z`).",
    };
  }
  if (message.typeName.startsWith("google.protobuf.")) {
    throw new Error(`${message.typeName} has no JSON schema here yet`);
  }
  return ref(message.typeName);
}

function valueSchema(field: DescField): JsonSchema {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar, field.toString());
    case "enum":
      return ref(field.enum.typeName);
    case "message":
      return messageRef(field.message);
    case "list": {
      const items =
        field.listKind === "scalar"
          ? scalarSchema(field.scalar, field.toString())
          : field.listKind === "enum"
            ? ref(field.enum.typeName)
            : messageRef(field.message);
      return { type: "array", items };
    }
    case "map": {
      if (field.mapKey !== ScalarType.STRING) {
        throw new Error(`${field.toString()}: only maps with string keys have a JSON schema here`);
      }
      const values =
        field.mapKind === "scalar"
          ? scalarSchema(field.scalar, field.toString())
          : field.mapKind === "enum"
            ? ref(field.enum.typeName)
            : messageRef(field.message);
      return { type: "object", additionalProperties: values };
    }
  }
}

function messageSchema(message: DescMessage): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of message.fields) {
    // A $ref with a description beside it: allowed in OpenAPI 3.1 (JSON Schema 2020-12).
    properties[field.jsonName] = described(valueSchema(field), commentText(field));
  }
  const schema: JsonSchema = {
    type: "object",
    properties,
    // The service refuses fields the proto does not have (rather than drop them).
    additionalProperties: false,
  };
  // At most one field of each oneof (proto3 JSON); the comments say when one is required.
  const oneofs = message.oneofs.map((oneof) => ({
    not: {
      anyOf: oneof.fields.flatMap((a, index) =>
        oneof.fields.slice(index + 1).map((b) => ({ required: [a.jsonName, b.jsonName] })),
      ),
    },
  }));
  if (oneofs.length > 0) schema.allOf = oneofs;
  const oneofNotes = message.oneofs
    .map((oneof) => {
      const names = oneof.fields.map((field) => `\`${field.jsonName}\``).join(", ");
      return `At most one of ${names}. ${commentText(oneof)}`.trim();
    })
    .join(" ");
  return described(schema, [commentText(message), oneofNotes].filter(Boolean).join(" "));
}

function enumSchema(desc: DescEnum): JsonSchema {
  const values = desc.values.map((value) => `- \`${value.name}\`: ${commentText(value)}`);
  return {
    description: [
      `${commentText(desc)} In JSON, a value's name; a number the proto does not name comes as that number.`,
      "",
      ...values,
    ].join("\n"),
    anyOf: [
      { type: "string", enum: desc.values.map((value) => value.name) },
      { type: "integer", minimum: -2147483648, maximum: 2147483647 },
    ],
  };
}

/** The Connect protocol's error codes, as the `code` of its JSON error body, from connect-es. */
const CONNECT_CODES = Object.values(Code)
  .filter((value): value is Code => typeof value === "number")
  .map(codeToString);

const openApiPlugin: Plugin = {
  name: "protoc-gen-openapi",
  version: "v1",
  run(request) {
    const registry = createFileRegistry(
      create(FileDescriptorSetSchema, { file: request.protoFile }),
    );
    const paths: Record<string, unknown> = {};
    const schemas: Record<string, JsonSchema> = {};
    const streaming: string[] = [];
    const tags: { name: string; description: string }[] = [];
    for (const name of [...request.fileToGenerate].sort()) {
      const file = registry.getFile(name);
      if (file === undefined) throw new Error(`${name} is not in the request`);
      const visit = (message: DescMessage) => {
        schemas[message.typeName] = messageSchema(message);
        for (const nested of message.nestedMessages) visit(nested);
        for (const nested of message.nestedEnums) schemas[nested.typeName] = enumSchema(nested);
      };
      for (const message of file.messages) visit(message);
      for (const desc of file.enums) schemas[desc.typeName] = enumSchema(desc);
      for (const service of file.services) {
        tags.push({ name: service.typeName, description: commentText(service) });
        for (const method of service.methods) {
          const path = `/${service.typeName}/${method.name}`;
          if (method.methodKind !== "unary") {
            streaming.push(`\`${path}\``);
            continue;
          }
          const description = commentText(method);
          paths[path] = {
            post: {
              operationId: `${service.typeName}.${method.name}`,
              tags: [service.typeName],
              summary: `${method.name} (Connect, JSON)`,
              description,
              parameters: [{ $ref: "#/components/parameters/ConnectTimeoutMs" }],
              requestBody: {
                required: true,
                content: { "application/json": { schema: messageRef(method.input) } },
              },
              responses: {
                "200": {
                  description: `The ${method.output.name}.`,
                  content: { "application/json": { schema: messageRef(method.output) } },
                },
                "4XX": { $ref: "#/components/responses/ConnectError" },
                "5XX": { $ref: "#/components/responses/ConnectError" },
              },
            },
          };
        }
      }
    }
    const document = {
      openapi: "3.1.0",
      info: {
        title: "Agora token service",
        version: "v1",
        description: [
          "The Connect protocol's JSON form of every unary RPC of the proto files (POST, `Content-Type: application/json`, the request message as proto3 JSON), generated from them with their comments.",
          "Field names are the proto3 JSON names (`expireSeconds`); the proto names (`expire_seconds`) are accepted too. A field the proto does not have is refused, naming it.",
          streaming.length > 0
            ? `Streaming RPCs (${streaming.join(", ")}) have no plain JSON form: call them with a Connect or gRPC client.`
            : "",
        ]
          .filter(Boolean)
          .join("\n\n"),
      },
      tags,
      paths,
      components: {
        schemas: {
          ...schemas,
          "connect.Error": {
            description:
              "A Connect error: its code, and a message that names the field and the rule broken.",
            type: "object",
            required: ["code"],
            properties: {
              code: { type: "string", enum: CONNECT_CODES },
              message: { type: "string" },
              details: {
                type: "array",
                items: {
                  type: "object",
                  required: ["type", "value"],
                  properties: {
                    type: { type: "string" },
                    value: { type: "string", contentEncoding: "base64" },
                    debug: {},
                  },
                },
              },
            },
          },
        },
        parameters: {
          ConnectTimeoutMs: {
            name: "Connect-Timeout-Ms",
            in: "header",
            required: false,
            description:
              "The call's deadline, in milliseconds (up to 10 digits). Past it the call ends with `deadline_exceeded`.",
            schema: { type: "string", pattern: "^[0-9]{1,10}$" },
          },
        },
        responses: {
          ConnectError: {
            description:
              "A Connect error. The HTTP status follows the code: 400 `invalid_argument`, 401 `unauthenticated` (with `WWW-Authenticate`), 403 `permission_denied`, 429 `resource_exhausted` (with `Retry-After` when rate-limited), 501 `unimplemented`, 503 `unavailable`, 500 `internal`.",
            content: { "application/json": { schema: ref("connect.Error") } },
          },
        },
      },
    };
    const content = [
      "// Generated by scripts/protoc-gen-openapi.ts (buf generate) from proto/. Do not edit.",
      "",
      "/** The OpenAPI 3.1 document of the Connect JSON form of every unary RPC in proto/. */",
      `export const rpcOpenApi = ${JSON.stringify(document, null, 2)};`,
      "",
    ].join("\n");
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: [{ name: "openapi/rpc_openapi.ts", content }],
    });
  },
};

runNodeJs(openApiPlugin);
