import type { Interceptor } from "@connectrpc/connect";
import { countNoun } from "../count-noun.js";

/** Credentials a client sends with every call; the server decides which it accepts. */
export interface ClientAuth {
  /** An API key, sent as `X-API-Key: <key>`. */
  apiKey?: string | undefined;
  /** A JWT, sent as `Authorization: Bearer <jwt>`. */
  jwt?: string | undefined;
}

// RFC 9110 token68 characters and the rest of visible ASCII: no spaces, controls or non-ASCII,
// which would break the header or be rejected by fetch.
const HEADER_VALUE = /^[\x21-\x7E]+$/;

/**
 * An interceptor that adds the credential to every request, or `undefined` when there is none.
 * Throws a `TypeError` at once for a value that cannot be a header (the value is never echoed)
 * and for `apiKey` and `jwt` together.
 */
export function authInterceptor({ apiKey, jwt }: ClientAuth): Interceptor | undefined {
  for (const [name, value] of [
    ["apiKey", apiKey],
    ["jwt", jwt],
  ] as const) {
    if (value !== undefined && !HEADER_VALUE.test(value)) {
      throw new TypeError(
        `${name} must be non-empty visible ASCII without spaces (got ${countNoun(value.length, "character")})`,
      );
    }
  }
  if (apiKey !== undefined && jwt !== undefined) {
    // Two credentials name two callers: a service that requires credentials refuses both (401).
    throw new TypeError(
      "give apiKey or jwt, not both: the service refuses a call that carries two credentials",
    );
  }
  if (apiKey === undefined && jwt === undefined) return undefined;
  return (next) => (request) => {
    if (apiKey !== undefined) request.header.set("X-API-Key", apiKey);
    if (jwt !== undefined) request.header.set("Authorization", `Bearer ${jwt}`);
    return next(request);
  };
}

/** `baseUrl` as an http(s) URL string, or a `TypeError` naming the option. */
export function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute http or https URL (got "${baseUrl}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    // "localhost:8080" parses as the scheme "localhost:": quote what was given, not the scheme.
    throw new TypeError(
      `baseUrl must be an http or https URL starting with http:// or https:// (got "${baseUrl}")`,
    );
  }
  return baseUrl;
}
