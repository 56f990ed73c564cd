import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type ContextValues, type ServiceImpl } from "@connectrpc/connect";
import {
  type GetTokenRequest,
  TokenService,
} from "../../../gen/agora/token/v1/token_service_pb.js";
import { createCallContext, guardedCallOf } from "../../service/call-context.js";
import type { CallGuard } from "../../service/call-guard.js";
import { ruleViolationOf } from "../../service/create-token-service.js";
import { readBody, sendBodyTooLarge, sendJson } from "../http/json-response.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import { requestHeadersOf } from "../http/request-headers.js";
import { routePatternKey } from "../http/route-pattern.js";
import { httpStatusFromCode } from "./http-status.js";
import { legacyInspectToken } from "./legacy-inspect-token.js";
import {
  chatRequest,
  getTokenFieldNames,
  getTokenRequestFromJson,
  type LegacyFieldNames,
  LegacyInputError,
  legacyExpire,
  legacyMessage,
  legacyRole,
  rtcRequest,
  rtmRequest,
} from "./legacy-request.js";

export interface LegacyRoutesOptions {
  service: ServiceImpl<typeof TokenService>;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  maxBodyBytes: number;
  /** Checked before every `getToken`: the same guard the Connect interceptor runs. */
  callGuard?: CallGuard;
  /** The request's context values, handed to the service as Connect hands them to handlers. */
  contextValues?: (req: NodeRequest) => ContextValues;
  /** Receives unexpected errors; the caller gets a generic 500. */
  onInternalError?: (error: unknown) => void;
}

/** Handles a request if it is a legacy route; returns false when the path is not one. */
export interface LegacyRoutes {
  (req: NodeRequest, res: NodeResponse): boolean;
  /** Whether a path (without its query) is one of the legacy routes, whatever the method. */
  matches(path: string): boolean;
}

interface LegacyCall {
  req: NodeRequest;
  res: NodeResponse;
  /** A path parameter, URL-decoded once; one missing at the end of the path is "". */
  param(name: string): string;
  query: URLSearchParams;
}

interface LegacyRoute {
  pattern: string;
  /** Literal segments, and `:name` for a parameter. */
  segments: readonly string[];
  methods: readonly string[];
  handle(call: LegacyCall): Promise<void>;
}

const MAX_RTC_UID = 0xffff_ffff;
const NUMERIC_UID = /^(0|[1-9][0-9]*)$/;

/**
 * The routes of the Go agora-token-service as adapters onto the same `TokenService`
 * implementation that Connect serves: each parses its input, builds a `GetTokenRequest`, calls
 * `getToken`, and maps errors to HTTP through one table. No route validates or mints on its own.
 */
export function legacyRoutes({
  service,
  maxBodyBytes,
  callGuard,
  contextValues,
  onInternalError = () => {},
}: LegacyRoutesOptions): LegacyRoutes {
  /** The context a Connect handler would get for this call. */
  function contextOf(call: LegacyCall, method: DescMethod) {
    return createCallContext({
      method,
      protocolName: "legacy",
      requestMethod: call.req.method ?? "GET",
      url: call.req.url ?? "/",
      requestHeader: () => requestHeadersOf(call.req),
      values: contextValues?.(call.req),
    });
  }

  async function getToken(call: LegacyCall, request: GetTokenRequest, names: LegacyFieldNames) {
    const context = contextOf(call, TokenService.method.getToken);
    try {
      await callGuard?.check(guardedCallOf(context), request);
      return await service.getToken(request, context);
    } catch (error) {
      // Anything but a ConnectError is a bug, answered generically by sendError.
      throw error instanceof ConnectError ? withLegacyNames(error, names) : error;
    }
  }

  const routes: LegacyRoute[] = [
    route("POST", "/getToken", async (call) => {
      const body = await readBody(call.req, maxBodyBytes);
      // The client went away mid-body: nobody is left to answer.
      if (body.kind === "aborted") return;
      if (body.kind === "too-large") return sendBodyTooLarge(call.req, call.res, maxBodyBytes);
      const request = getTokenRequestFromJson(body.bytes);
      const { token } = await getToken(call, request, getTokenFieldNames);
      sendJson(call.res, 200, { token });
    }),

    route("POST", "/inspectToken", async (call) => {
      const context = contextOf(call, TokenService.method.inspectToken);
      // Who may call and how often: the same check the Connect interceptor runs for InspectToken.
      await callGuard?.check(guardedCallOf(context));
      await legacyInspectToken(call.req, call.res, { service, maxBodyBytes, context });
    }),

    route(["GET", "HEAD"], "/ping", async ({ res }) => sendJson(res, 200, { message: "pong" })),

    route("GET", "/rtc/:channel/:role/:tokenType/:uid", async (call) => {
      const { param } = call;
      const request = rtcRequest({
        channel: param("channel"),
        uid: rtcUid(param("tokenType"), param("uid"), "uid"),
        role: legacyRole(param("role")),
        expireSeconds: expiryOf(call, "rtc"),
      });
      const { token } = await getToken(call, request, { expire_seconds: "expiry" });
      sendJson(call.res, 200, { rtcToken: token });
    }),

    route("GET", "/rtm/:uid", async (call) => {
      const request = rtmRequest({
        uid: call.param("uid"),
        channel: "",
        expireSeconds: expiryOf(call, "rtm"),
      });
      const { token } = await getToken(call, request, { expire_seconds: "expiry" });
      sendJson(call.res, 200, { rtmToken: token });
    }),

    route("GET", "/rte/:channel/:role/:tokenType/:rtcuid/:rtmuid", async (call) => {
      const { param } = call;
      const rtcuid = param("rtcuid");
      // Without an RTM user, the RTC uid logs in to RTM too.
      const rtmUser =
        param("rtmuid") === ""
          ? { uid: rtcuid, field: "rtcuid" }
          : { uid: param("rtmuid"), field: "rtmuid" };
      const rtc = rtcRequest({
        channel: param("channel"),
        uid: rtcUid(param("tokenType"), rtcuid, "rtcuid"),
        role: legacyRole(param("role")),
        expireSeconds: expiryOf(call, "rtc"),
      });
      const rtm = rtmRequest({
        uid: rtmUser.uid,
        channel: "",
        expireSeconds: expiryOf(call, "rtm"),
      });
      const [rtcToken, rtmToken] = await Promise.all([
        getToken(call, rtc, { uid: "rtcuid", expire_seconds: "expiry" }),
        getToken(call, rtm, { uid: rtmUser.field, expire_seconds: "expiry" }),
      ]);
      sendJson(call.res, 200, { rtcToken: rtcToken.token, rtmToken: rtmToken.token });
    }),

    route("GET", "/chat/app", async (call) => {
      const request = chatRequest({ uid: "", expireSeconds: expiryOf(call, "chat") });
      const { token } = await getToken(call, request, { expire_seconds: "expiry" });
      sendJson(call.res, 200, { chatToken: token });
    }),

    route("GET", "/chat/account/:chatid", async (call) => {
      const chatid = call.param("chatid");
      // An empty account here would silently become an app token.
      if (chatid === "") throw new LegacyInputError("chatid is required");
      const request = chatRequest({ uid: chatid, expireSeconds: expiryOf(call, "chat") });
      const { token } = await getToken(call, request, { uid: "chatid", expire_seconds: "expiry" });
      sendJson(call.res, 200, { chatToken: token });
    }),
  ];

  const handle = (req: NodeRequest, res: NodeResponse) => {
    const { path, query } = splitUrl(req.url ?? "/");
    const match = matchRoute(routes, path);
    if (match === undefined) return false;
    if (match.kind === "bad-path") {
      sendJson(res, 400, { error: "the path has an invalid percent-encoding" });
      return true;
    }
    const { route, params } = match;
    contextValues?.(req).set(routePatternKey, route.pattern);
    if (!route.methods.includes(req.method ?? "")) {
      const allow = route.methods.join(", ");
      res.setHeader("Allow", allow);
      sendJson(res, 405, { error: `method not allowed; use ${allow}` });
      return true;
    }
    route
      .handle({
        req,
        res,
        param: (name) => params.get(name) ?? "",
        query: new URLSearchParams(query),
      })
      .catch((error: unknown) => sendError(res, error, onInternalError))
      .catch(onInternalError);
    return true;
  };
  return Object.assign(handle, {
    matches: (path: string) => matchRoute(routes, path) !== undefined,
  });
}

function route(
  methods: string | readonly string[],
  pattern: string,
  handle: LegacyRoute["handle"],
): LegacyRoute {
  return {
    pattern,
    segments: pattern.split("/").slice(1),
    methods: typeof methods === "string" ? [methods] : methods,
    handle,
  };
}

type RouteMatch =
  | { kind: "ok"; route: LegacyRoute; params: Map<string, string> }
  | { kind: "bad-path" };

/**
 * Finds the route for a path, with or without its trailing slash. Parameters missing at the end
 * of the path read as "" so that the token rules can say what is missing; extra segments match
 * nothing.
 */
function matchRoute(routes: readonly LegacyRoute[], path: string): RouteMatch | undefined {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const segments = trimmed.split("/").slice(1);
  for (const candidate of routes) {
    if (segments.length > candidate.segments.length) continue;
    const params = new Map<string, string>();
    let matches = true;
    for (const [index, expected] of candidate.segments.entries()) {
      const actual = segments[index];
      if (expected.startsWith(":")) {
        const decoded = decodeSegment(actual ?? "");
        if (decoded === undefined) return { kind: "bad-path" };
        params.set(expected.slice(1), decoded);
      } else if (actual !== expected) {
        matches = false;
        break;
      }
    }
    if (matches) return { kind: "ok", route: candidate, params };
  }
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf("?");
  return mark === -1
    ? { path: url, query: "" }
    : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

/** `?expiry=N`, with the same rules as `expire`; absent or empty means the default. */
function expiryOf(call: LegacyCall, kind: "rtc" | "rtm" | "chat"): number {
  const raw = call.query.get("expiry");
  if (raw === null || raw === "") return 0;
  if (!/^-?[0-9]+$/.test(raw))
    throw new LegacyInputError("expiry must be an integer number of seconds");
  return legacyExpire(Number(raw), kind, "expiry");
}

/**
 * The RTC user of a GET route: with `tokenType` `uid` a decimal number 0..4294967295 (written
 * without leading zeros, so that it names exactly one user); with `userAccount` any account.
 */
function rtcUid(tokenType: string, uid: string, field: string): string {
  if (tokenType === "userAccount") return uid;
  if (tokenType !== "uid") throw new LegacyInputError('tokenType must be "uid" or "userAccount"');
  if (!NUMERIC_UID.test(uid) || Number(uid) > MAX_RTC_UID) {
    throw new LegacyInputError(
      `${field} must be a decimal number from 0 to 4294967295 without leading zeros when tokenType is uid`,
    );
  }
  return uid;
}

/** An error from `getToken` whose message uses the route's field names. */
class LegacyCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Headers the error asks for (Retry-After, WWW-Authenticate). */
    readonly metadata: Headers,
  ) {
    super(message);
  }
}

function withLegacyNames(error: ConnectError, names: LegacyFieldNames): LegacyCallError {
  const violation = ruleViolationOf(error);
  const message = violation ? legacyMessage(violation, names) : error.rawMessage;
  return new LegacyCallError(message, httpStatusFromCode(error.code), error.metadata);
}

function sendError(
  res: NodeResponse,
  error: unknown,
  onInternalError: (error: unknown) => void,
): void {
  if (error instanceof LegacyInputError) {
    sendJson(res, 400, { error: error.message });
    return;
  }
  if (!(error instanceof LegacyCallError || error instanceof ConnectError)) {
    // A bug: its message may name internals, so the caller only learns that it happened.
    onInternalError(error);
    sendJson(res, 500, { error: "internal error" });
    return;
  }
  const legacy = error instanceof LegacyCallError ? error : withLegacyNames(error, {});
  // Retry-After, WWW-Authenticate.
  if (!res.headersSent) for (const [name, value] of legacy.metadata) res.setHeader(name, value);
  sendJson(res, legacy.status, { error: legacy.message });
}
