import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type Interceptor,
} from "@connectrpc/connect";
import { type GetTokenRequest, TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import type { Authenticator, PresentedCredentials } from "../auth/authenticator.js";
import { authorize } from "../auth/authorize.js";
import { type Caller, describeCaller, rateLimitKeyOf } from "../auth/caller.js";
import { countNoun } from "../count-noun.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import { tokenRequestFromProto, violationError } from "./create-token-service.js";

/** The client's address (the rate-limit key of open mode), set by whoever serves the request. */
export const clientAddressKey = createContextKey<string>("unknown", {
  description: "client address",
});

/**
 * The credential headers of the request a call came in, every copy of each, set by whoever
 * serves the request; without it the guard reads the call's `Headers`, which keep one of each.
 */
export const credentialHeadersKey = createContextKey<(() => PresentedCredentials) | undefined>(
  undefined,
  { description: "credential headers as sent" },
);

/** The caller a guarded call was made by, for interceptors that log or count (set before the service runs). */
export const callerKey = createContextKey<Caller | undefined>(undefined, {
  description: "authenticated caller",
});

/** A call the guard refused, for the log: who (never a credential), with which code, and why. */
export interface Refusal {
  code: Code;
  /** `undefined` when the caller could not be authenticated. */
  caller: string | undefined;
  reason: string;
}

/** What the guard needs of a call, whichever protocol or legacy route it came by. */
export interface GuardedCall {
  header: Headers;
  values: ContextValues;
}

export interface CallGuard {
  /**
   * Authenticates the caller, counts the call against their rate limit and, for a GetToken
   * request, checks they may have that token. Throws a `ConnectError` (Unauthenticated,
   * ResourceExhausted with Retry-After, PermissionDenied, Unavailable) when not.
   */
  check(call: GuardedCall, request?: GetTokenRequest): Promise<void>;
}

export interface CallGuardOptions {
  authenticator: Authenticator;
  /** Absent: no rate limit. */
  rateLimiter?: RateLimiter | undefined;
  onRefusal?: (refusal: Refusal) => void;
}

/** The one check every protocol (through {@link callGuardInterceptor}) and legacy route runs. */
export function createCallGuard({
  authenticator,
  rateLimiter,
  onRefusal = () => {},
}: CallGuardOptions): CallGuard {
  const refuse = (error: ConnectError, caller: Caller | undefined): never => {
    onRefusal({
      code: error.code,
      caller: caller && describeCaller(caller),
      reason: error.rawMessage,
    });
    throw error;
  };
  return {
    async check(call, request) {
      const credentials =
        call.values.get(credentialHeadersKey)?.() ?? credentialsFromHeaders(call.header);
      const authentication = await authenticator.authenticate(
        credentials,
        call.values.get(clientAddressKey),
      );
      if (authentication.kind === "unauthenticated") {
        const error = new ConnectError(authentication.reason, Code.Unauthenticated);
        error.metadata.set("WWW-Authenticate", 'Bearer realm="agora-token-service"');
        return refuse(error, undefined);
      }
      if (authentication.kind === "unavailable") {
        return refuse(new ConnectError(authentication.reason, Code.Unavailable), undefined);
      }
      const { caller } = authentication;
      call.values.set(callerKey, caller);

      const rate = rateLimiter ? await rateLimiter.take(rateLimitKeyOf(caller)) : undefined;
      if (rate?.kind === "limited") {
        const seconds = rate.retryAfterSeconds;
        const error = new ConnectError(
          `too many requests from this caller. Retry after ${countNoun(seconds, "second")}`,
          Code.ResourceExhausted,
        );
        error.metadata.set("Retry-After", String(seconds));
        return refuse(error, caller);
      }
      if (rate?.kind === "unavailable") {
        const message = "the rate limiter is unavailable. Retry later";
        return refuse(new ConnectError(message, Code.Unavailable), caller);
      }

      if (request === undefined) return;
      const tokenRequest = tokenRequestFromProto(request);
      // A request that is not valid gets its InvalidArgument from the service.
      if (tokenRequest.kind === "invalid") return;
      const decision = authorize(caller, tokenRequest.request);
      if (decision.kind === "deny")
        return refuse(violationError(decision.violation, Code.PermissionDenied), caller);
    },
  };
}

/** Runs the guard for every RPC of `TokenService`; other services (health…) stay open. */
export function callGuardInterceptor(guard: CallGuard): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== TokenService.typeName) return next(req);
    const call = { header: req.header, values: req.contextValues };
    if (req.method === TokenService.method.getToken && !req.stream) {
      await guard.check(call, req.message as GetTokenRequest);
    } else {
      await guard.check(call);
    }
    return next(req);
  };
}

/** The credentials of a `Headers` object (a call that did not come through the Node server). */
export function credentialsFromHeaders(header: Headers): PresentedCredentials {
  const authorization = header.get("authorization");
  const apiKey = header.get("x-api-key");
  return {
    authorization: authorization === null ? [] : [authorization],
    apiKey: apiKey === null ? [] : [apiKey],
  };
}
