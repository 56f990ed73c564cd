/** Roles an RTC token can carry. */
export type RtcRole = "publisher" | "subscriber";

/** The Agora AI engines an agent's token can be for. */
export type AgentKind = "conversational_ai" | "speech_to_text";

/**
 * Each RTC privilege's own lifetime, in seconds from the issue time. 0 means as long as the
 * token.
 */
export interface RtcPrivilegeLifetimes {
  joinChannel: number;
  publishAudio: number;
  publishVideo: number;
  publishData: number;
}

/** What an RTC request says, in an `rtc` request and in the RTC half of an `rtc_rtm` one. */
export interface RtcFields {
  channel: string;
  /** Numeric uid or user account, as a string; "0" means any user. */
  uid: string;
  /** `undefined` when the caller named no role: that is an error, never a default. */
  role: RtcRole | undefined;
  /** The token's lifetime; 0 means the default. */
  expireSeconds: number;
  /** Every RTC privilege's lifetime; 0 (or absent) means as long as the token. */
  privilegeExpireSeconds?: number;
  /** Each RTC privilege's lifetime on its own; absent when the caller did not set it. */
  privilegeExpiry?: RtcPrivilegeLifetimes | undefined;
}

/** One token for RTC and RTM. */
export interface RtcRtmFields extends RtcFields {
  /** The RTM user; `""` means the same as `uid`. */
  rtmUserId: string;
  /** The RTM login privilege's lifetime; 0 means as long as the token. */
  rtmExpireSeconds: number;
}

/**
 * What a caller asks for, before validation. Strings are used exactly as given: nothing is
 * trimmed, case folded or parsed into a number.
 */
export type TokenRequest =
  | ({ kind: "rtc" } & RtcFields)
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
    }
  | ({ kind: "rtc_rtm" } & RtcRtmFields)
  | {
      kind: "agent";
      /** `undefined` when the caller named no engine: an error. */
      agentKind: AgentKind | undefined;
      /** `undefined` when the caller sent no identity: an error. */
      rtcRtm: RtcRtmFields | undefined;
    };

export type TokenKind = TokenRequest["kind"];

/** A field of {@link RtcPrivilegeLifetimes}, as the contract names it. */
export type PrivilegeExpiryField =
  | "join_channel_seconds"
  | "publish_audio_seconds"
  | "publish_video_seconds"
  | "publish_data_stream_seconds";

/** The fields of an `rtc_rtm` request (of which an `rtc` request has the first seven). */
export type RtcRtmField =
  | "channel"
  | "uid"
  | "role"
  | "expire_seconds"
  | "privilege_expire_seconds"
  | "privilege_expiry"
  | `privilege_expiry.${PrivilegeExpiryField}`
  | "rtm_user_id"
  | "rtm_expire_seconds";

/** A field of a request, as the contract names it, relative to the request kind. */
export type RuleField = "request" | RtcRtmField | "kind" | "rtc_rtm" | `rtc_rtm.${RtcRtmField}`;

/**
 * The field of a request that broke a rule, and the rule in words. The words never contain
 * `; / ? : @ & = + $ , #`: gRPC clients leave those percent-encoded in error messages.
 */
export interface RuleViolation {
  kind: TokenKind | undefined;
  field: RuleField;
  rule: string;
}
