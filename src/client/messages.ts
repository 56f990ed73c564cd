// The package root of agora-token-service-client: the generated messages and `TokenService`, and
// what a caller needs to handle answers, without a transport (./node and ./web add one each).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { GetTokenResponse } from "../../gen/agora/token/v1/token_service_pb.js";

export { Code, ConnectError } from "@connectrpc/connect";
export * from "../../gen/agora/token/v1/token_service_pb.js";
export { timestampDate };

/** When a token expires and when the app must have renewed it, as Dates. */
export interface ExpiryDates {
  /** When the token itself expires. */
  expiresAt: Date;
  /** When its first privilege expires: renew by then (equals `expiresAt` unless asked otherwise). */
  privilegesExpireAt: Date;
}

/** The times of a `GetToken` answer as `Date`s; a `TypeError` if the answer lacks one. */
export function expiryDates(response: GetTokenResponse): ExpiryDates {
  const { expiresAt, privilegesExpireAt } = response;
  if (expiresAt === undefined || privilegesExpireAt === undefined) {
    throw new TypeError("the GetToken response has no expiresAt or privilegesExpireAt");
  }
  return {
    expiresAt: timestampDate(expiresAt),
    privilegesExpireAt: timestampDate(privilegesExpireAt),
  };
}
