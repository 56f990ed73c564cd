import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { GetTokenRequestSchema } from "../../../gen/agora/token/v1/token_service_pb.js";
import { findDuplicateKey } from "../http/strict-json.js";
import { rpcBinaryOptions } from "./rpc-options.js";

export type DecodedMessage<Desc extends DescMessage> =
  | { kind: "ok"; message: MessageShape<Desc> }
  /** `reason` is fit for a gRPC error message: it names the field, without `: , / ? #`. */
  | { kind: "invalid"; reason: string };

/**
 * Decodes one request message, in protobuf binary or in JSON, with the rules every RPC protocol
 * shares here (the GetToken fast path and connect-node alike). JSON is strict: an unknown field,
 * an unknown enum name, a key given twice or two members of one oneof are refused, naming the
 * field, since a silently dropped field (a typo in `expireSeconds`) would mint a token the caller
 * did not ask for. Binary keeps protobuf's own rule: unknown fields are skipped.
 */
export function decodeRequestMessage<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  binary: boolean,
): DecodedMessage<Desc> {
  if (binary) {
    try {
      return { kind: "ok", message: fromBinary(schema, bytes, rpcBinaryOptions) };
    } catch {
      return {
        kind: "invalid",
        reason: `the request message is not a valid ${schema.typeName} in protobuf binary`,
      };
    }
  }
  let value: JsonValue;
  try {
    const text = utf8.decode(bytes);
    value = JSON.parse(text) as JsonValue;
    const duplicate = findDuplicateKey(text);
    if (duplicate !== undefined) {
      return { kind: "invalid", reason: `the request repeats the key ${quoted(duplicate[1])}` };
    }
  } catch {
    return { kind: "invalid", reason: "request must be one JSON document in UTF-8" };
  }
  const paths = new Map<string, string>();
  const problem = jsonProblem(schema, value, "", paths, 0);
  if (problem !== undefined) return { kind: "invalid", reason: problem };
  try {
    return { kind: "ok", message: fromJson(schema, value) };
  } catch (error) {
    return { kind: "invalid", reason: protobufJsonProblem(schema, error, paths) };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Messages nested deeper than this are left to protobuf-es (none of ours come close). */
const MAX_DEPTH = 32;

/**
 * Keys of the legacy flat body (`POST /getToken`): a caller who sends one to the RPC route is
 * told where it belongs.
 */
const legacyBodyKeys = new Set(["tokenType", "channel", "role", "uid", "expire"]);

/**
 * The first thing in `value` that protobuf-es would refuse, or silently drop, as a `desc`:
 * worded with the field's path (`rtc.role`). Records the path of each message type it visits.
 */
function jsonProblem(
  desc: DescMessage,
  value: JsonValue,
  path: string,
  paths: Map<string, string>,
  depth: number,
): string | undefined {
  const name = path || "request";
  if (depth > MAX_DEPTH) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${name} must be a JSON object`;
  }
  if (!paths.has(desc.typeName)) paths.set(desc.typeName, path);
  const seen = new Map<DescField, string>();
  const oneofs = new Map<string, string>();
  for (const [key, member] of Object.entries(value)) {
    const field = desc.fields.find(
      (candidate) => candidate.jsonName === key || candidate.name === key,
    );
    if (field === undefined) return unknownFieldProblem(desc, name, key);
    const other = seen.get(field);
    if (other !== undefined) {
      return `${fieldPath(path, field)} is set twice (as ${quoted(other)} and ${quoted(key)})`;
    }
    seen.set(field, key);
    if (member === null) continue;
    if (field.oneof !== undefined) {
      const set = oneofs.get(field.oneof.name);
      if (set !== undefined) {
        const choices = field.oneof.fields.map((choice) => choice.name).join(" or ");
        return `${path ? `${path}.` : ""}${field.oneof.name} must set only one of ${choices} (it sets ${set} and ${field.name})`;
      }
      oneofs.set(field.oneof.name, field.name);
    }
    const problem = fieldProblem(field, member, fieldPath(path, field), paths, depth);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function fieldProblem(
  field: DescField,
  value: JsonValue,
  path: string,
  paths: Map<string, string>,
  depth: number,
): string | undefined {
  switch (field.fieldKind) {
    case "message":
      return isWellKnown(field.message)
        ? undefined
        : jsonProblem(field.message, value, path, paths, depth + 1);
    case "enum":
      return enumProblem(field.enum, value, path);
    case "list":
      if (!Array.isArray(value)) return undefined;
      for (const [index, element] of value.entries()) {
        const problem =
          field.listKind === "message" && !isWellKnown(field.message)
            ? jsonProblem(field.message, element, `${path}[${index}]`, paths, depth + 1)
            : field.listKind === "enum"
              ? enumProblem(field.enum, element, `${path}[${index}]`)
              : undefined;
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
      for (const element of Object.values(value)) {
        const problem =
          field.mapKind === "message" && !isWellKnown(field.message)
            ? jsonProblem(field.message, element, path, paths, depth + 1)
            : field.mapKind === "enum"
              ? enumProblem(field.enum, element, path)
              : undefined;
        if (problem !== undefined) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Well-known types have JSON forms of their own (a Timestamp is a string): protobuf-es reads them. */
function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.");
}

function enumProblem(desc: DescEnum, value: JsonValue, path: string): string | undefined {
  if (typeof value !== "string") return undefined;
  if (desc.values.some((candidate) => candidate.name === value)) return undefined;
  const names = desc.values.filter((candidate) => candidate.number !== 0).map(({ name }) => name);
  return `${path} must be ${names.join(" or ")} and not ${quoted(value)}`;
}

function unknownFieldProblem(desc: DescMessage, name: string, key: string): string {
  const fields = desc.fields.map((field) => field.name).join(" ");
  const problem = `${name} has no field ${quoted(key)} (its fields are ${fields})`;
  if (desc.typeName === GetTokenRequestSchema.typeName && legacyBodyKeys.has(key)) {
    const kinds = desc.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.name));
    return `${problem}. This looks like a legacy flat body. Post it to the legacy getToken route or send one of ${kinds.join(" or ")} here`;
  }
  return problem;
}

/**
 * What protobuf-es refused after {@link jsonProblem} found nothing: a scalar of the wrong type.
 * Its own message quotes the value and names types in `type.Name.field` form; this names the
 * field's path and the type it needs instead.
 */
function protobufJsonProblem(
  schema: DescMessage,
  error: unknown,
  paths: ReadonlyMap<string, string>,
): string {
  const message = error instanceof Error ? error.message : "";
  const [, typeName, fieldName] =
    /^cannot decode field ([\w.]+)\.(\w+) from JSON/.exec(message) ?? [];
  const path = typeName === undefined ? undefined : paths.get(typeName);
  const field =
    path === undefined
      ? undefined
      : findMessage(schema, typeName)?.fields.find((f) => f.name === fieldName);
  if (path === undefined || field === undefined) {
    return `request is not a valid ${schema.typeName} in JSON`;
  }
  return `${fieldPath(path, field)} must be ${jsonTypeOf(field)}`;
}

function findMessage(
  desc: DescMessage,
  typeName: string | undefined,
  depth = 0,
): DescMessage | undefined {
  if (desc.typeName === typeName) return desc;
  if (depth > MAX_DEPTH) return undefined;
  for (const field of desc.fields) {
    const nested = field.message && !isWellKnown(field.message) ? field.message : undefined;
    const found = nested && findMessage(nested, typeName, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function jsonTypeOf(field: DescField): string {
  const list = field.fieldKind === "list" ? "a JSON array of " : "";
  switch (field.scalar) {
    case ScalarType.STRING:
      return `${list}a JSON string`;
    case ScalarType.BOOL:
      return `${list}true or false`;
    case ScalarType.BYTES:
      return `${list}base64 text`;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return `${list}a whole number from 0 to 4294967295`;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return `${list}a whole number from -2147483648 to 2147483647`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `${list}a number`;
    case undefined:
      return `${list}a valid ${field.fieldKind} value`;
    default:
      return `${list}a whole number (as a JSON string or number)`;
  }
}

function fieldPath(parent: string, field: DescField): string {
  return parent ? `${parent}.${field.name}` : field.name;
}

/** A key or value from the client, quoted when it is plain enough to repeat in a message. */
function quoted(text: string): string {
  return /^[\w.-]{1,64}$/.test(text) ? `"${text}"` : "(a text with characters not shown here)";
}
