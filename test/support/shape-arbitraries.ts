import fc from "fast-check";
import type { AgentKind } from "../../gen/agora/token/v1/token_service_pb.js";
import type { GetTokenInit } from "./clients.js";

// Requests of the shapes issue 11 added (privilege lifetimes, RTC + RTM, agents), valid by the
// README's rules, and each broken in one field.

const AGORA_CHARS = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..." !#$%&()+-:;<=.>?@[]^_{}|~,",
];
const agoraName = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...AGORA_CHARS), minLength: 1, maxLength });
const rtmUser = agoraName(64).filter((uid) => !uid.startsWith(" ") && uid !== "0");
const rtcUid = fc.oneof(agoraName(255), fc.constant("0"), fc.nat({ max: 0xffff_ffff }).map(String));
const tokenExpire = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 86_400 }));
const PUBLISHER = 1;
const SUBSCRIBER = 2;

/** A privilege lifetime for a token of `expire` seconds (0: 3600): 0 or 1 up to the token's. */
const privilegeSeconds = (expire: number) =>
  fc.oneof(fc.constant(0), fc.integer({ min: 1, max: expire === 0 ? 3600 : expire }));
const lifetimeOf = (expire: number) => (expire === 0 ? 3600 : expire);

interface RtcPart {
  channel: string;
  uid: string;
  role: number;
  expireSeconds: number;
  privilegeExpireSeconds: number;
  privilegeExpiry?: {
    joinChannelSeconds: number;
    publishAudioSeconds: number;
    publishVideoSeconds: number;
    publishDataStreamSeconds: number;
  };
}

/** The RTC fields: no privilege lifetimes, one for all, or each its own (none to publish for a subscriber). */
const rtcPart: fc.Arbitrary<RtcPart> = fc
  .record({
    channel: agoraName(64),
    uid: rtcUid,
    role: fc.constantFrom(PUBLISHER, SUBSCRIBER),
    expireSeconds: tokenExpire,
  })
  .chain((base) => {
    const seconds = privilegeSeconds(base.expireSeconds);
    const publish = base.role === PUBLISHER ? seconds : fc.constant(0);
    return fc.oneof(
      fc.constant({ ...base, privilegeExpireSeconds: 0 }),
      seconds.map((privilegeExpireSeconds) => ({ ...base, privilegeExpireSeconds })),
      fc
        .record({
          joinChannelSeconds: seconds,
          publishAudioSeconds: publish,
          publishVideoSeconds: publish,
          publishDataStreamSeconds: publish,
        })
        .map((privilegeExpiry) => ({ ...base, privilegeExpireSeconds: 0, privilegeExpiry })),
    );
  });

const isRtmUser = (uid: string) => uid.length <= 64 && !uid.startsWith(" ") && uid !== "0";

/** RTC + RTM: the RTM user is given, or (when the RTC uid can be one) left to the uid. */
const rtcRtmPart = rtcPart.chain((rtc) =>
  fc
    .record({
      rtmUserId: isRtmUser(rtc.uid) ? fc.oneof(fc.constant(""), rtmUser) : rtmUser,
      rtmExpireSeconds: privilegeSeconds(rtc.expireSeconds),
    })
    .map((rtm) => ({ ...rtc, ...rtm })),
);

export const validRtcWithLifetimes: fc.Arbitrary<GetTokenInit> = rtcPart.map((value) => ({
  request: { case: "rtc", value },
}));
export const validRtcRtm: fc.Arbitrary<GetTokenInit> = rtcRtmPart.map((value) => ({
  request: { case: "rtcRtm", value },
}));
export const validAgent: fc.Arbitrary<GetTokenInit> = fc
  .record({ kind: fc.constantFrom(1, 2), rtcRtm: rtcRtmPart })
  .map((value) => ({ request: { case: "agent", value } }));

/** Every shape issue 11 added. */
export const validShapeRequest = fc.oneof(validRtcWithLifetimes, validRtcRtm, validAgent);

/** A request that breaks one rule, and the field (as the error message names it) it breaks. */
export interface BrokenRequest {
  init: GetTokenInit;
  field: string;
}

const badName = (maxBytes: number) =>
  fc.oneof(
    fc.constant(""),
    fc.constantFrom("a/b", 'say "hi"', "tab\there", "é", "a*b"),
    fc.constant("x".repeat(maxBytes + 1)),
  );
const overLifetime = (expire: number) =>
  fc.integer({ min: lifetimeOf(expire) + 1, max: 0xffff_ffff });

type Part = RtcPart & { rtmUserId?: string; rtmExpireSeconds?: number };
type PrivilegeField = keyof NonNullable<RtcPart["privilegeExpiry"]>;

/** Each lifetime of `privilege_expiry`, and its name in error messages. */
const PRIVILEGE_FIELDS: readonly [PrivilegeField, string][] = [
  ["joinChannelSeconds", "join_channel_seconds"],
  ["publishAudioSeconds", "publish_audio_seconds"],
  ["publishVideoSeconds", "publish_video_seconds"],
  ["publishDataStreamSeconds", "publish_data_stream_seconds"],
];

/** `privilege_expiry` with one of `fields` set to `seconds` (the others 0), and that field's name. */
function onePrivilegeLifetime(
  part: Part,
  fields: readonly [PrivilegeField, string][],
  seconds: fc.Arbitrary<number>,
): fc.Arbitrary<{ part: Part; field: string }> {
  return fc.tuple(fc.constantFrom(...fields), seconds).map(([[name, field], lifetime]) => ({
    part: {
      ...part,
      privilegeExpireSeconds: 0,
      privilegeExpiry: {
        joinChannelSeconds: 0,
        publishAudioSeconds: 0,
        publishVideoSeconds: 0,
        publishDataStreamSeconds: 0,
        [name]: lifetime,
      },
    },
    field: `privilege_expiry.${field}`,
  }));
}

/** One field of the RTC (+ RTM) part broken, named relative to that part. */
function brokenPart(part: Part, rtm: boolean): fc.Arbitrary<{ part: Part; field: string }> {
  const withField = (field: string) => (changed: Part) => ({ part: changed, field });
  const options: fc.Arbitrary<{ part: Part; field: string }>[] = [
    badName(64)
      .map((channel) => ({ ...part, channel }))
      .map(withField("channel")),
    badName(255)
      .map((uid) => ({ ...part, uid }))
      .map(withField("uid")),
    fc
      .constantFrom(0, 3, 99)
      .map((role) => ({ ...part, role }))
      .map(withField("role")),
    fc
      .integer({ min: 86_401, max: 0xffff_ffff })
      .map((expireSeconds) => ({ ...part, expireSeconds }))
      .map(withField("expire_seconds")),
    overLifetime(part.expireSeconds)
      .map((privilegeExpireSeconds) => {
        const { privilegeExpiry: _dropped, ...rest } = part;
        return { ...rest, privilegeExpireSeconds };
      })
      .map(withField("privilege_expire_seconds")),
    onePrivilegeLifetime(part, PRIVILEGE_FIELDS, overLifetime(part.expireSeconds)),
    fc
      .integer({ min: 1, max: lifetimeOf(part.expireSeconds) })
      .map((privilegeExpireSeconds) => ({
        ...part,
        privilegeExpireSeconds,
        privilegeExpiry: {
          joinChannelSeconds: 0,
          publishAudioSeconds: 0,
          publishVideoSeconds: 0,
          publishDataStreamSeconds: 0,
        },
      }))
      .map(withField("privilege_expiry")),
  ];
  if (part.role === SUBSCRIBER) {
    // A publish lifetime the token would not carry, even within the token's lifetime.
    options.push(
      onePrivilegeLifetime(
        part,
        PRIVILEGE_FIELDS.slice(1),
        fc.integer({ min: 1, max: lifetimeOf(part.expireSeconds) }),
      ),
    );
  }
  if (rtm) {
    options.push(
      fc
        .oneof(badName(64), fc.constantFrom("0", " alice"))
        .filter((rtmUserId) => rtmUserId !== "")
        .map((rtmUserId) => ({ ...part, rtmUserId }))
        .map(withField("rtm_user_id")),
      fc.constant({ ...part, uid: "0", rtmUserId: "" }).map(withField("rtm_user_id")),
      overLifetime(part.expireSeconds)
        .map((rtmExpireSeconds) => ({ ...part, rtmExpireSeconds }))
        .map(withField("rtm_expire_seconds")),
    );
  }
  return fc.oneof(...options);
}

/** A request of a new shape with one rule broken, and the field its error must name. */
export const brokenShapeRequest: fc.Arbitrary<BrokenRequest> = fc.oneof(
  rtcPart.chain((part) =>
    brokenPart(part, false).map(({ part: value, field }) => ({
      init: { request: { case: "rtc" as const, value } },
      field: `rtc.${field}`,
    })),
  ),
  rtcRtmPart.chain((part) =>
    brokenPart(part, true).map(({ part: value, field }) => ({
      init: { request: { case: "rtcRtm" as const, value } },
      field: `rtc_rtm.${field}`,
    })),
  ),
  fc.record({ kind: fc.constantFrom(1, 2), rtcRtm: rtcRtmPart }).chain(({ kind, rtcRtm }) =>
    fc.oneof(
      brokenPart(rtcRtm, true).map(({ part, field }) => ({
        init: { request: { case: "agent" as const, value: { kind, rtcRtm: part } } },
        field: `agent.rtc_rtm.${field}`,
      })),
      // Proto3 enums are open: a number the contract does not name travels as it is.
      fc.constantFrom(0, 3, 17).map((badKind) => ({
        init: {
          request: { case: "agent" as const, value: { kind: badKind as AgentKind, rtcRtm } },
        },
        field: "agent.kind",
      })),
      fc.constant({
        init: { request: { case: "agent" as const, value: { kind } } },
        field: "agent.rtc_rtm",
      }),
    ),
  ),
);
