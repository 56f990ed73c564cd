import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  AgentKind,
  type GetTokenRequest,
  type RtcPrivilegeExpiry,
  RtcRole,
  type RtcRtmTokenRequest,
  type RtcTokenRequest,
  type TokenService,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { type Credentials, signsWithDemoCredentials } from "../token/credentials.js";
import { type Clock, createTokenMinter, type SaltSource } from "../token/token-minter.js";
import type {
  RtcFields,
  RtcPrivilegeLifetimes,
  RtcRtmFields,
  RuleViolation,
  AgentKind as TokenAgentKind,
  TokenRequest,
  RtcRole as TokenRtcRole,
} from "../token/token-request.js";
import { createInspectToken } from "./inspect-token.js";

export interface TokenServiceOptions {
  credentials: Credentials;
  clock?: Clock;
  salt?: SaltSource;
  /** Receives unexpected errors (bugs); callers only ever see a generic Internal error. */
  onInternalError?: (error: unknown) => void;
}

/**
 * The `TokenService` implementation every protocol and legacy route calls. Rule violations become
 * `InvalidArgument` whose `cause` is the {@link RuleViolation}; anything unexpected becomes
 * `Internal` with a generic message.
 */
export function createTokenService({
  credentials,
  clock,
  salt,
  onInternalError = () => {},
}: TokenServiceOptions): ServiceImpl<typeof TokenService> {
  const minter = createTokenMinter({
    credentials,
    ...(clock && { clock }),
    ...(salt && { salt }),
  });
  const inspectToken = createInspectToken({
    credentials,
    onInternalError,
    ...(clock && { clock }),
  });
  const demoCredentials = signsWithDemoCredentials(credentials);
  return {
    getToken(request) {
      let result: ReturnType<typeof minter.mint>;
      try {
        const tokenRequest = tokenRequestFromProto(request);
        if (tokenRequest.kind === "invalid") throw violationError(tokenRequest.violation);
        result = minter.mint(tokenRequest.request);
      } catch (error) {
        if (error instanceof ConnectError) throw error;
        // A bug or a throw from agora-token: the detail goes to the log, never to the caller.
        onInternalError(error);
        throw new ConnectError("internal error while minting the token", Code.Internal);
      }
      if (result.kind === "invalid") throw violationError(result.violation);
      return {
        token: result.token,
        expiresAt: timestampFromMs(result.expiresAt * 1000),
        privilegesExpireAt: timestampFromMs(result.privilegesExpireAt * 1000),
        demoCredentials,
      };
    },
    inspectToken: (request) => inspectToken(request),
  };
}

/**
 * The error for a broken rule (`InvalidArgument`) or a refused one (`PermissionDenied`): the
 * message names the field and the rule, and the violation is the cause, so that legacy routes can
 * name the field their own way.
 */
export function violationError(
  violation: RuleViolation,
  code = Code.InvalidArgument,
): ConnectError {
  // A rule about the request as a whole names its kind ("agent tokens need …").
  const field = !violation.kind
    ? violation.field
    : violation.field === "request"
      ? violation.kind
      : `${violation.kind}.${violation.field}`;
  return new ConnectError(`${field} ${violation.rule}`, code, undefined, undefined, violation);
}

/** The {@link RuleViolation} behind an error from {@link violationError}, if there is one. */
export function ruleViolationOf(error: ConnectError): RuleViolation | undefined {
  const cause = error.cause as Partial<RuleViolation> | undefined;
  return cause && typeof cause.field === "string" && typeof cause.rule === "string"
    ? (cause as RuleViolation)
    : undefined;
}

/** The domain request a `GetTokenRequest` asks for (also read by the call guard, to authorize it). */
export function tokenRequestFromProto(
  message: GetTokenRequest,
): { kind: "ok"; request: TokenRequest } | { kind: "invalid"; violation: RuleViolation } {
  const { request } = message;
  switch (request.case) {
    case "rtc":
      return { kind: "ok", request: { kind: "rtc", ...rtcFieldsFromProto(request.value) } };
    case "rtm":
      return {
        kind: "ok",
        request: {
          kind: "rtm",
          uid: request.value.uid,
          channel: request.value.channel,
          expireSeconds: request.value.expireSeconds,
        },
      };
    case "chat":
      return {
        kind: "ok",
        request: {
          kind: "chat",
          uid: request.value.uid,
          expireSeconds: request.value.expireSeconds,
        },
      };
    case "rtcRtm":
      return { kind: "ok", request: { kind: "rtc_rtm", ...rtcRtmFieldsFromProto(request.value) } };
    case "agent":
      return {
        kind: "ok",
        request: {
          kind: "agent",
          agentKind: agentKindFromProto(request.value.kind),
          rtcRtm: request.value.rtcRtm && rtcRtmFieldsFromProto(request.value.rtcRtm),
        },
      };
    case undefined:
      return {
        kind: "invalid",
        violation: {
          kind: undefined,
          field: "request",
          rule: "must set one of rtc or rtm or chat or rtc_rtm or agent",
        },
      };
  }
}

function rtcFieldsFromProto(value: RtcTokenRequest | RtcRtmTokenRequest): RtcFields {
  return {
    channel: value.channel,
    uid: value.uid,
    role: rtcRoleFromProto(value.role),
    expireSeconds: value.expireSeconds,
    privilegeExpireSeconds: value.privilegeExpireSeconds,
    privilegeExpiry: value.privilegeExpiry && privilegeLifetimesFromProto(value.privilegeExpiry),
  };
}

function rtcRtmFieldsFromProto(value: RtcRtmTokenRequest): RtcRtmFields {
  return {
    ...rtcFieldsFromProto(value),
    rtmUserId: value.rtmUserId,
    rtmExpireSeconds: value.rtmExpireSeconds,
  };
}

function privilegeLifetimesFromProto(value: RtcPrivilegeExpiry): RtcPrivilegeLifetimes {
  return {
    joinChannel: value.joinChannelSeconds,
    publishAudio: value.publishAudioSeconds,
    publishVideo: value.publishVideoSeconds,
    publishData: value.publishDataStreamSeconds,
  };
}

function agentKindFromProto(kind: AgentKind): TokenAgentKind | undefined {
  switch (kind) {
    case AgentKind.CONVERSATIONAL_AI:
      return "conversational_ai";
    case AgentKind.SPEECH_TO_TEXT:
      return "speech_to_text";
    default:
      return undefined;
  }
}

function rtcRoleFromProto(role: RtcRole): TokenRtcRole | undefined {
  switch (role) {
    case RtcRole.PUBLISHER:
      return "publisher";
    case RtcRole.SUBSCRIBER:
      return "subscriber";
    default:
      return undefined;
  }
}
