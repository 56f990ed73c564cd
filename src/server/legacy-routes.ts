import { create } from "@bufbuild/protobuf";
import { ConnectError, createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type GetTokenRequest,
  GetTokenRequestSchema,
  RtcRole,
  TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { ruleViolationOf } from "../service.js";
import type { RuleViolation } from "../token/token-request.js";
import { resolveExpireSeconds } from "../token/token-rules.js";
import { httpStatusFromCode } from "./http-status.js";
import type { NodeRequest, NodeResponse } from "./node-types.js";
import { parseStrictJson } from "./strict-json.js";

export interface LegacyRoutesOptions {
  service: ServiceImpl<typeof TokenService>;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  maxBodyBytes: number;
}

/** Handles a request if it is a legacy route; returns false when the path is not one. */
export type LegacyRoutes = (req: NodeRequest, res: NodeResponse) => boolean;

/** A legacy request that cannot become a `GetTokenRequest`: answered 400 with this message. */
class LegacyInputError extends Error {}

const MAX_UINT32 = 0xffff_ffff;
const tokenTypes = ["rtc", "rtm", "chat"] as const;
const roles = { publisher: RtcRole.PUBLISHER, subscriber: RtcRole.SUBSCRIBER } as const;
// Legacy callers know the flat JSON names, not the proto ones.
const legacyFieldNames: Partial<Record<RuleViolation["field"], string>> = {
  expire_seconds: "expire",
};

/**
 * The routes of the Go agora-token-service, as adapters onto the same `TokenService`
 * implementation that Connect serves: `POST /getToken` and `GET /ping`.
 */
export function legacyRoutes({ service, maxBodyBytes }: LegacyRoutesOptions): LegacyRoutes {
  async function getToken(req: NodeRequest, res: NodeResponse): Promise<void> {
    const body = await readBody(req, maxBodyBytes);
    if (body.kind === "too-large") {
      // Stop reading a body we will never use, once the answer has been sent.
      res.once("finish", () => req.destroy());
      if ("shouldKeepAlive" in res) res.shouldKeepAlive = false;
      sendJson(res, 413, { error: `body must be at most ${maxBodyBytes} bytes` });
      return;
    }
    const request = getTokenRequestFromJson(body.text);
    const response = await callGetToken(service, req, request);
    sendJson(res, 200, { token: response.token });
  }

  const routes = new Map<string, LegacyRoute>([
    ["/getToken", { methods: ["POST"], handle: getToken }],
    [
      "/ping",
      {
        methods: ["GET", "HEAD"],
        handle: async (_req, res) => sendJson(res, 200, { message: "pong" }),
      },
    ],
  ]);

  return (req, res) => {
    const route = routes.get(pathOf(req));
    if (route === undefined) return false;
    if (!route.methods.includes(req.method ?? "")) {
      const allow = route.methods.join(", ");
      res.setHeader("Allow", allow);
      sendJson(res, 405, { error: `method not allowed; use ${allow}` });
      return true;
    }
    route.handle(req, res).catch((error: unknown) => sendError(res, error));
    return true;
  };
}

interface LegacyRoute {
  methods: readonly string[];
  handle(req: NodeRequest, res: NodeResponse): Promise<void>;
}

/** Calls `GetToken` on the shared implementation, as the Connect router would. */
async function callGetToken(
  service: ServiceImpl<typeof TokenService>,
  req: NodeRequest,
  request: GetTokenRequest,
) {
  const context = createHandlerContext({
    service: TokenService,
    method: TokenService.method.getToken,
    protocolName: "legacy",
    requestMethod: req.method ?? "POST",
    url: req.url ?? "/",
    requestHeader: headersOf(req),
  });
  return service.getToken(request, context);
}

function getTokenRequestFromJson(text: string): GetTokenRequest {
  const parsed = parseStrictJson(text);
  if (parsed.kind === "invalid") throw new LegacyInputError(parsed.reason);
  const body = parsed.value;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new LegacyInputError("body must be a JSON object");
  }
  const fields = body as Record<string, unknown>;
  const tokenType = fields.tokenType ?? undefined;
  if (!tokenTypes.includes(tokenType as (typeof tokenTypes)[number])) {
    throw new LegacyInputError(
      tokenType === undefined
        ? 'tokenType is required and must be "rtc" or "rtm" or "chat"'
        : 'tokenType must be "rtc" or "rtm" or "chat"',
    );
  }
  const channel = optionalString(fields, "channel");
  const uid = legacyUid(fields.uid ?? undefined);
  const expireSeconds = legacyExpire(fields.expire ?? undefined, tokenType as string);
  switch (tokenType as (typeof tokenTypes)[number]) {
    case "rtc": {
      const role = optionalString(fields, "role");
      if (role !== "" && !Object.hasOwn(roles, role)) {
        throw new LegacyInputError('role must be "publisher" or "subscriber"');
      }
      return create(GetTokenRequestSchema, {
        request: {
          case: "rtc",
          value: {
            channel,
            uid,
            role: role === "" ? RtcRole.UNSPECIFIED : roles[role as keyof typeof roles],
            expireSeconds,
          },
        },
      });
    }
    case "rtm":
      return create(GetTokenRequestSchema, {
        request: { case: "rtm", value: { uid, channel, expireSeconds } },
      });
    case "chat":
      return create(GetTokenRequestSchema, {
        request: { case: "chat", value: { uid, expireSeconds } },
      });
  }
}

/** A string field; absent or `null` reads as "" (which the rules treat as not given). */
function optionalString(fields: Record<string, unknown>, name: string): string {
  const value = fields[name] ?? "";
  if (typeof value !== "string") throw new LegacyInputError(`${name} must be a string`);
  return value;
}

/** `uid` is a string, or a non-negative integer that becomes its decimal string. */
function legacyUid(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    if (!Number.isSafeInteger(value)) {
      throw new LegacyInputError(
        "uid as a JSON number must be at most 9007199254740991; send larger uids as strings",
      );
    }
    return String(value);
  }
  throw new LegacyInputError("uid must be a string or a non-negative integer");
}

/** `expire` is an integer; the token rules decide its range. */
function legacyExpire(value: unknown, tokenType: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new LegacyInputError("expire must be an integer number of seconds");
  }
  if (value < 0 || value > MAX_UINT32) {
    // Out of the contract's uint32 range: the token rules say why, as for any other bad value.
    const result = resolveExpireSeconds(tokenType as (typeof tokenTypes)[number], value);
    if (result.kind === "invalid") throw new LegacyInputError(legacyMessage(result.violation));
  }
  return value;
}

function legacyMessage(violation: RuleViolation): string {
  return `${legacyFieldNames[violation.field] ?? violation.field} ${violation.rule}`;
}

function sendError(res: NodeResponse, error: unknown): void {
  if (error instanceof LegacyInputError) {
    sendJson(res, 400, { error: error.message });
    return;
  }
  const connectError = ConnectError.from(error);
  const violation = ruleViolationOf(connectError);
  const message = violation ? legacyMessage(violation) : connectError.rawMessage;
  sendJson(res, httpStatusFromCode(connectError.code), { error: message });
}

/** Writes a JSON answer, unless one was already started (the client may have gone). */
export function sendJson(res: NodeResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
  });
  res.end(json);
}

type BodyResult = { kind: "ok"; text: string } | { kind: "too-large" };

/** Reads the whole body, or stops (pausing the request) as soon as it is larger than allowed. */
function readBody(req: NodeRequest, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      cleanUp();
      req.pause();
      resolve({ kind: "too-large" });
    };
    const onEnd = () => {
      cleanUp();
      try {
        const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks, size));
        resolve({ kind: "ok", text });
      } catch {
        reject(new LegacyInputError("body must be UTF-8 encoded JSON"));
      }
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const cleanUp = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function pathOf(req: NodeRequest): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function headersOf(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}
