import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import {
  type AnyDesc,
  createFileRegistry,
  type DescMessage,
  type FileRegistry,
  fromBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenRoutes } from "../../src/server/create-token-routes.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { memoryLogger } from "../support/memory-logger.js";

interface Operation {
  description?: string;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<
      string,
      {
        description?: string;
        properties?: Record<string, { description?: string }>;
        anyOf?: { enum?: string[] }[];
      }
    >;
    responses: Record<string, unknown>;
  };
}

const root = resolve(import.meta.dirname, "../..");
const API_KEY = "openapi-test-key-0123456789";
let open: AppServer;
let keyed: AppServer;
let document: OpenApiDocument;

beforeAll(async () => {
  [open, keyed] = await Promise.all([
    startApp({ CORS_ALLOW_ORIGIN: "https://app.example.com" }),
    startApp({ API_KEYS: `docs:${API_KEY}` }),
  ]);
  document = (await (await fetch(`${open.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(async () => {
  await Promise.all([open?.close(), keyed?.close()]);
});

describe("GET /openapi.json", () => {
  it("serves the document as JSON without credentials, with CORS like the other GET routes", async () => {
    const response = await fetch(`${keyed.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(((await response.json()) as OpenApiDocument).openapi).toBe("3.1.0");

    const cors = await fetch(`${open.baseUrl}/openapi.json`, {
      headers: { Origin: "https://app.example.com" },
    });
    expect(cors.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const other = await fetch(`${open.baseUrl}/openapi.json`, {
      headers: { Origin: "https://elsewhere.example.com" },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    const post = await fetch(`${open.baseUrl}/openapi.json`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is what createTokenRoutes() gives an embedding host as openApi", () => {
    const tokens = createTokenRoutes({
      credentials: { appId: SAMPLE.appId, appCertificate: SAMPLE.appCertificate },
      logger: memoryLogger().logger,
    });
    expect(tokens.openApi).toEqual(document);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

/** The proto files as `buf build` reads them, with their comments. */
function protoRegistry(): { registry: FileRegistry; files: string[] } {
  const image = execFileSync(
    join(root, "node_modules/.bin/buf"),
    ["build", "-o", "-#format=binpb"],
    {
      cwd: root,
    },
  );
  const set = fromBinary(FileDescriptorSetSchema, image);
  return {
    registry: createFileRegistry(set),
    files: set.file.map((file) => file.name).filter((name) => !name.startsWith("google/")),
  };
}

/** A comment's words (leading, else trailing), whatever the line breaks and indentation. */
function words(desc: AnyDesc): string {
  const { leading, trailing } = getComments(desc as unknown as Parameters<typeof getComments>[0]);
  return (leading ?? trailing ?? "").split(/\s+/).filter(Boolean).join(" ");
}
const flat = (text: string | undefined) => (text ?? "").split(/\s+/).filter(Boolean).join(" ");

describe("the document and the proto", () => {
  it("describes every message, field, enum value and unary RPC of proto/ with its comment", () => {
    const { registry, files } = protoRegistry();
    expect(files).toEqual(
      expect.arrayContaining(["agora/token/v1/token_service.proto", "grpc/health/v1/health.proto"]),
    );
    const { schemas } = document.components;
    const missing: string[] = [];
    const check = (what: string, present: boolean) => {
      if (!present) missing.push(what);
    };
    let fields = 0;
    let values = 0;
    let rpcs = 0;
    for (const name of files) {
      const file = registry.getFile(name);
      if (file === undefined) throw new Error(`${name} missing`);
      const messages: DescMessage[] = [];
      const collect = (message: DescMessage) => {
        messages.push(message);
        message.nestedMessages.forEach(collect);
      };
      file.messages.forEach(collect);
      for (const message of messages) {
        const schema = schemas[message.typeName];
        check(message.typeName, flat(schema?.description).includes(words(message)));
        for (const field of message.fields) {
          fields++;
          const property = schema?.properties?.[field.jsonName];
          check(`${field.toString()} (${field.jsonName})`, property !== undefined);
          check(`${field.toString()}'s comment`, flat(property?.description) === words(field));
        }
      }
      const enums = [...file.enums, ...messages.flatMap((message) => message.nestedEnums)];
      for (const desc of enums) {
        const schema = schemas[desc.typeName];
        const names = schema?.anyOf?.[0]?.enum ?? [];
        check(desc.typeName, flat(schema?.description).includes(words(desc)));
        for (const value of desc.values) {
          values++;
          check(value.name, names.includes(value.name));
          check(
            `${value.name}'s comment`,
            flat(schema?.description).includes(`\`${value.name}\`: ${words(value)}`),
          );
        }
        check(`${desc.typeName} has only the proto's values`, names.length === desc.values.length);
      }
      for (const service of file.services) {
        for (const method of service.methods) {
          const path = `/${service.typeName}/${method.name}`;
          if (method.methodKind === "unary") {
            rpcs++;
            check(path, flat(document.paths[path]?.post?.description) === words(method));
          } else {
            // Streaming calls have no plain JSON form: the document says so instead.
            check(`${path} named as streaming`, document.info.description.includes(path));
          }
        }
      }
    }
    expect(missing).toEqual([]);
    // Enough of the proto was checked for the loop to mean something.
    expect({ fields: fields > 40, values: values > 20, rpcs }).toEqual({
      fields: true,
      values: true,
      rpcs: 4,
    });
  });
});

/** One call of a route and the status it must answer. */
interface Call {
  path: string;
  method?: "GET" | "POST";
  body?: unknown;
  server?: "open" | "keyed";
  headers?: Record<string, string>;
  status: number;
  /** What else a person would check in the answer. */
  check?: (body: Record<string, unknown>) => void;
}

const rtcPublisher = { channel: "docs", uid: "42", role: "RTC_ROLE_PUBLISHER" };
const expectToken = (key: string, services: number[]) => (body: Record<string, unknown>) => {
  const token = decodeToken(String(body[key]));
  expect(token.signatureValid).toBe(true);
  expect(token.services.map((service) => service.type)).toEqual(services);
};

/** For every path of the document (the template it matches), a success and errors. */
const CALLS: Record<string, Call[]> = {
  "/agora.token.v1.TokenService/GetToken": [
    { path: "", body: { rtc: rtcPublisher }, status: 200, check: expectToken("token", [1]) },
    {
      path: "",
      body: { agent: { kind: "AGENT_KIND_SPEECH_TO_TEXT", rtcRtm: rtcPublisher } },
      status: 200,
    },
    { path: "", body: { rtc: { ...rtcPublisher, role: "publisher" } }, status: 400 },
    { path: "", body: { rtc: rtcPublisher }, server: "keyed", status: 401 },
  ],
  "/agora.token.v1.TokenService/InspectToken": [
    {
      path: "",
      body: { token: "minted" },
      status: 200,
      check: (body) => expect(body.signatureValid).toBe(true),
    },
    { path: "", body: { token: "006abc" }, status: 400 },
  ],
  "/grpc.health.v1.Health/Check": [
    { path: "", body: {}, status: 200, check: (body) => expect(body.status).toBe("SERVING") },
    { path: "", body: { service: "nope" }, status: 404 },
  ],
  "/grpc.health.v1.Health/List": [
    { path: "", body: {}, status: 200 },
    { path: "", body: { nope: 1 }, status: 400 },
  ],
  "/getToken": [
    {
      path: "",
      body: { tokenType: "rtc", channel: "docs", role: "publisher", uid: 7 },
      status: 200,
      check: expectToken("token", [1]),
    },
    { path: "", body: { tokenType: "chat", uid: null }, status: 200 },
    { path: "", body: { tokenType: "rtc", channel: "docs", uid: "7" }, status: 400 },
    { path: "", body: { tokenType: "rtm", uid: "ann" }, server: "keyed", status: 401 },
    { path: "", body: "x".repeat(30_000), status: 413 },
  ],
  "/inspectToken": [
    {
      path: "",
      body: { token: "minted" },
      status: 200,
      // Every field present, as the route promises.
      check: (body) => expect(body.servicesIncomplete).toBe(false),
    },
    { path: "", body: { token: 42 }, status: 400 },
  ],
  "/ping": [{ path: "", method: "GET", status: 200 }],
  "/rtc/{channel}/{role}/{tokenType}/{uid}": [
    { path: "/rtc/docs/publisher/uid/42/?expiry=600", method: "GET", status: 200 },
    { path: "/rtc/docs/host/uid/42", method: "GET", status: 400 },
  ],
  "/rtm/{uid}": [
    { path: "/rtm/ann", method: "GET", status: 200, check: expectToken("rtmToken", [2]) },
    { path: "/rtm/0/", method: "GET", status: 400 },
  ],
  "/rte/{channel}/{role}/{tokenType}/{rtcuid}": [
    { path: "/rte/docs/subscriber/userAccount/ann", method: "GET", status: 200 },
    { path: "/rte/docs/subscriber/uid/0", method: "GET", status: 400 },
  ],
  "/rte/{channel}/{role}/{tokenType}/{rtcuid}/{rtmuid}": [
    { path: "/rte/docs/publisher/uid/0/ann/", method: "GET", status: 200 },
    { path: "/rte/docs/publisher/uid/0/ann?expiry=-1", method: "GET", status: 400 },
  ],
  "/chat/app": [
    { path: "/chat/app/", method: "GET", status: 200, check: expectToken("chatToken", [5]) },
    { path: "/chat/app?expiry=soon", method: "GET", status: 400 },
    { path: "/chat/app", method: "GET", server: "keyed", status: 401 },
  ],
  "/chat/account/{chatid}": [
    { path: "/chat/account/ann", method: "GET", status: 200 },
    { path: "/chat/account/a%20b", method: "GET", status: 400 },
  ],
};

describe("real answers and the document's schemas", () => {
  let ajv: Ajv2020;
  const DOC = "https://agora-token-service.test/openapi.json";
  beforeAll(() => {
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: DOC });
  });

  /** The schema of a response of an operation, following `#/components/responses/…`. */
  function responseValidator(template: string, method: string, status: number): ValidateFunction {
    const responses = document.paths[template]?.[method]?.responses ?? {};
    const key = String(status) in responses ? String(status) : `${String(status)[0]}XX`;
    const response = responses[key];
    if (response === undefined) throw new Error(`${method} ${template} documents no ${status}`);
    const pointer = response.$ref
      ? response.$ref.slice(1)
      : `/paths/${template.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/responses/${key}`;
    return ajv.compile({ $ref: `${DOC}#${pointer}/content/application~1json/schema` });
  }

  it("has cases for every path of the document, and schemas that refuse a wrong answer", () => {
    expect(Object.keys(CALLS).sort()).toEqual(Object.keys(document.paths).sort());
    const getToken = responseValidator("/agora.token.v1.TokenService/GetToken", "post", 200);
    expect(getToken({ token: "007eJx", expiresAt: "2026-12-02T00:00:00Z" })).toBe(true);
    expect(getToken({ token: 7 })).toBe(false);
    expect(getToken({ token: "007eJx", expiresAt: "tomorrow" })).toBe(false);
    expect(getToken({ token: "007eJx", expires_at: "2026-12-02T00:00:00Z" })).toBe(false);
    const connectError = responseValidator("/agora.token.v1.TokenService/GetToken", "post", 400);
    expect(connectError({ code: "invalid_argument", message: "m" })).toBe(true);
    expect(connectError({ error: "m" })).toBe(false);
    const legacyError = responseValidator("/rtm/{uid}", "get", 400);
    expect(legacyError({ error: "m" })).toBe(true);
    expect(legacyError({ code: "invalid_argument", message: "m" })).toBe(false);
    const rtm = responseValidator("/rtm/{uid}", "get", 200);
    expect(rtm({ rtmToken: "007eJx" })).toBe(true);
    expect(rtm({ token: "007eJx" })).toBe(false);
  });

  it("answers every route, success and error, with a body its schema accepts", async () => {
    const minted = (await (
      await fetch(`${open.baseUrl}/getToken`, {
        method: "POST",
        body: JSON.stringify({ tokenType: "rtm", uid: "ann" }),
      })
    ).json()) as { token: string };
    const failures: string[] = [];
    for (const [template, calls] of Object.entries(CALLS)) {
      for (const call of calls) {
        const method = call.method ?? "POST";
        const base = call.server === "keyed" ? keyed.baseUrl : open.baseUrl;
        const body =
          typeof call.body === "string"
            ? call.body
            : JSON.stringify(call.body, (key, value) =>
                key === "token" && value === "minted" ? minted.token : value,
              );
        const response = await fetch(`${base}${call.path || template}`, {
          method,
          headers: { "Content-Type": "application/json", ...call.headers },
          ...(method === "POST" && { body }),
        });
        const label = `${method} ${call.path || template} → ${response.status}`;
        const answer = (await response.json()) as Record<string, unknown>;
        if (response.status !== call.status) {
          failures.push(`${label}, expected ${call.status}: ${JSON.stringify(answer)}`);
          continue;
        }
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        const validate = responseValidator(template, method.toLowerCase(), response.status);
        if (!validate(answer)) {
          failures.push(`${label}: ${JSON.stringify(answer)} ${ajv.errorsText(validate.errors)}`);
        }
        call.check?.(answer);
      }
    }
    expect(failures).toEqual([]);
  });
});
