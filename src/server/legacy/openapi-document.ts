import { rpcOpenApi } from "../../../gen/openapi/rpc_openapi.js";

type Json = Record<string, unknown>;

const schema = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

const TOKEN = {
  type: "string",
  pattern: "^007",
  description: 'An AccessToken2 token, starting with "007".',
};

/** A `{"<key>": token, …}` answer of the legacy routes. */
function tokensAnswer(description: string, ...keys: string[]): Json {
  return {
    description,
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: keys,
          properties: Object.fromEntries(keys.map((key) => [key, TOKEN])),
          additionalProperties: false,
        },
      },
    },
  };
}

const errors: Json = {
  "4XX": { $ref: "#/components/responses/LegacyError" },
  "5XX": { $ref: "#/components/responses/LegacyError" },
};

const EXPIRY = {
  name: "expiry",
  in: "query",
  required: false,
  description:
    "Lifetime of the token in seconds, with the rules of `expire`: absent, empty or 0 means 3600; otherwise 1 to 86400.",
  schema: { type: "string", pattern: "^-?[0-9]*$" },
};

const pathParameter = (name: string, description: string, values?: string[]): Json => ({
  name,
  in: "path",
  required: true,
  description,
  schema: values ? { type: "string", enum: values } : { type: "string" },
});

const CHANNEL = pathParameter(
  "channel",
  "The RTC channel, URL-encoded: 1 to 64 bytes with the rules of `RtcTokenRequest.channel`.",
);
const ROLE = pathParameter("role", "The RTC role.", ["publisher", "subscriber"]);
const TOKEN_TYPE = pathParameter(
  "tokenType",
  "`uid`: the RTC user is a decimal number 0 to 4294967295 without leading zeros (0 = any user). `userAccount`: any user account.",
  ["uid", "userAccount"],
);

/** A legacy GET route: `GET <path>` with and without a trailing slash, and `?expiry=N`. */
function getRoute(summary: string, parameters: Json[], answer: Json): Json {
  return {
    get: {
      tags: ["legacy"],
      summary,
      description: `${summary} Answers the same with a trailing slash.`,
      parameters: [...parameters, EXPIRY],
      responses: { "200": answer, ...errors },
    },
  };
}

/** The routes of the Go agora-token-service that this service still answers. */
const legacyPaths: Json = {
  "/getToken": {
    post: {
      tags: ["legacy"],
      summary: "One RTC, RTM or Chat token from a flat JSON body (the Go service's main route).",
      description:
        "The same rules as `GetToken`, with the body's field names in the messages. `null` counts as absent; unknown fields are ignored; a body that is not one JSON object (a trailing comma, trailing garbage, two keys differing only in case) is refused saying where.",
      requestBody: {
        required: true,
        content: { "application/json": { schema: schema("legacy.GetTokenRequest") } },
      },
      responses: {
        "200": tokensAnswer("The token.", "token"),
        ...errors,
      },
    },
  },
  "/inspectToken": {
    post: {
      tags: ["legacy"],
      summary: "What a token grants, as `InspectToken` answers it, with every field present.",
      description:
        'The answer of `InspectToken` in proto3 JSON, with fields at their default value (`false`, `0`, `""`) written out.',
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["token"],
              properties: {
                token: { ...TOKEN, description: "The token to read: at most 16384 characters." },
              },
            },
          },
        },
      },
      responses: {
        "200": {
          description: "What the token says.",
          content: {
            "application/json": { schema: schema("agora.token.v1.InspectTokenResponse") },
          },
        },
        ...errors,
      },
    },
  },
  "/ping": {
    get: {
      tags: ["legacy"],
      summary: "Answers pong; open even when callers must authenticate.",
      responses: {
        "200": {
          description: "pong",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["message"],
                properties: { message: { const: "pong" } },
                additionalProperties: false,
              },
            },
          },
        },
      },
    },
  },
  "/rtc/{channel}/{role}/{tokenType}/{uid}": getRoute(
    "An RTC token.",
    [CHANNEL, ROLE, TOKEN_TYPE, pathParameter("uid", "The RTC uid or account (see tokenType).")],
    tokensAnswer("The RTC token.", "rtcToken"),
  ),
  "/rtm/{uid}": getRoute(
    "An RTM token (login).",
    [pathParameter("uid", "The RTM user id, with the rules of `RtmTokenRequest.uid`.")],
    tokensAnswer("The RTM token.", "rtmToken"),
  ),
  "/rte/{channel}/{role}/{tokenType}/{rtcuid}": getRoute(
    "An RTC token and an RTM token for the RTC uid, which must not be 0.",
    [CHANNEL, ROLE, TOKEN_TYPE, pathParameter("rtcuid", "The RTC uid or account.")],
    tokensAnswer("The RTC and RTM tokens.", "rtcToken", "rtmToken"),
  ),
  "/rte/{channel}/{role}/{tokenType}/{rtcuid}/{rtmuid}": getRoute(
    "An RTC token and an RTM token for another user.",
    [
      CHANNEL,
      ROLE,
      TOKEN_TYPE,
      pathParameter("rtcuid", "The RTC uid or account."),
      pathParameter("rtmuid", "The RTM user id."),
    ],
    tokensAnswer("The RTC and RTM tokens.", "rtcToken", "rtmToken"),
  ),
  "/chat/app": getRoute("A Chat app token.", [], tokensAnswer("The Chat app token.", "chatToken")),
  "/chat/account/{chatid}": getRoute(
    "A Chat user token.",
    [pathParameter("chatid", "The Chat user id, with the rules of `ChatTokenRequest.uid`.")],
    tokensAnswer("The Chat user token.", "chatToken"),
  ),
};

const nullable = (value: Json): Json => ({ anyOf: [value, { type: "null" }] });

const legacySchemas: Json = {
  "legacy.GetTokenRequest": {
    type: "object",
    description: "The flat body of `POST /getToken`. `null` counts as absent.",
    required: ["tokenType"],
    properties: {
      tokenType: { enum: ["rtc", "rtm", "chat"], description: "Which token." },
      channel: nullable({
        type: "string",
        description:
          'RTC: the channel, required (rules of `RtcTokenRequest.channel`). RTM: an optional stream channel, or "*" for all. Chat: ignored.',
      }),
      role: nullable({ enum: ["publisher", "subscriber"], description: "RTC: required." }),
      uid: nullable({
        anyOf: [{ type: "string" }, { type: "integer", minimum: 0, maximum: 9007199254740991 }],
        description:
          'RTC: the uid or account, required ("0" = any user). RTM: the user id, required. Chat: the user id; absent means an app token. A JSON number becomes its decimal string.',
      }),
      expire: nullable({
        type: "integer",
        description: "Lifetime in seconds: absent or 0 means 3600; otherwise 1 to 86400.",
      }),
    },
  },
  "legacy.Error": {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "string",
        description: "What is wrong, naming the field (in the route's own words) and the rule.",
      },
    },
    additionalProperties: false,
  },
};

const legacyResponses: Json = {
  LegacyError: {
    description:
      "The legacy error shape. 400 bad input, 401 credentials missing or not valid (with `WWW-Authenticate`), 403 not allowed, 404 an unknown path, 405 another method (with `Allow`), 413 a body over `MAX_BODY_BYTES`, 429 over the rate limit (with `Retry-After`), 503 unavailable.",
    content: { "application/json": { schema: schema("legacy.Error") } },
  },
};

/**
 * The OpenAPI 3.1 document `GET /openapi.json` serves: the Connect JSON form of every unary RPC,
 * generated from the proto (gen/openapi), and the legacy routes described here, beside them.
 */
export function openApiDocument(): Json {
  const { info, tags, paths, components } = rpcOpenApi;
  return {
    openapi: rpcOpenApi.openapi,
    info: {
      ...info,
      description: `${info.description}\n\nThe legacy routes of the Go agora-token-service (tag \`legacy\`) answer \`{"error": "…"}\` on failure, with the HTTP status the same error has over Connect.`,
    },
    tags: [
      ...tags,
      {
        name: "legacy",
        description: "The flat JSON and GET routes of the Go agora-token-service.",
      },
    ],
    paths: { ...paths, ...legacyPaths },
    components: {
      ...components,
      schemas: { ...components.schemas, ...legacySchemas },
      responses: { ...components.responses, ...legacyResponses },
    },
  };
}
