/** Roles an RTC token can carry. */
export type RtcRole = "publisher" | "subscriber";

/**
 * What a caller asks for, before validation. Strings are used exactly as given: nothing is
 * trimmed, case folded or parsed into a number.
 */
export type TokenRequest =
  | {
      kind: "rtc";
      channel: string;
      /** Numeric uid or user account, as a string; "0" means any user. */
      uid: string;
      /** `undefined` when the caller named no role: that is an error, never a default. */
      role: RtcRole | undefined;
      /** 0 means the default lifetime. */
      expireSeconds: number;
    }
  | {
      kind: "rtm";
      uid: string;
      /** Stream channel, `"*"` for all, or `""` for none. */
      channel: string;
      expireSeconds: number;
    }
  | {
      kind: "chat";
      /** `""` asks for an app token. */
      uid: string;
      expireSeconds: number;
    };

export type TokenKind = TokenRequest["kind"];

/**
 * The field of a request that broke a rule, and the rule in words. The words never contain
 * `; / ? : @ & = + $ , #`: gRPC clients leave those percent-encoded in error messages.
 */
export interface RuleViolation {
  kind: TokenKind | undefined;
  field: "request" | "channel" | "uid" | "role" | "expire_seconds";
  rule: string;
}
