import fc from "fast-check";
import type { GetTokenInit } from "./clients.js";

/** The characters Agora allows in channel names and user accounts (README, "Rules"). */
const AGORA_CHARS = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..." !#$%&()+-:;<=.>?@[]^_{}|~,",
];
const CHAT_CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"];

const agoraName = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...AGORA_CHARS), minLength: 1, maxLength });
const validExpire = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 86_400 }));

/** Requests the rules allow: every one must be minted exactly as asked. */
export const validRequest: fc.Arbitrary<GetTokenInit> = fc.oneof(
  fc
    .record({
      channel: agoraName(64),
      uid: fc.oneof(agoraName(255), fc.constant("0"), fc.nat({ max: 0xffff_ffff }).map(String)),
      role: fc.constantFrom(1, 2),
      expireSeconds: validExpire,
    })
    .map((value) => ({ request: { case: "rtc" as const, value } })),
  fc
    .record({
      uid: agoraName(64).filter((uid) => !uid.startsWith(" ") && uid !== "0"),
      channel: fc.oneof(fc.constant(""), fc.constant("*"), agoraName(64)),
      expireSeconds: validExpire,
    })
    .map((value) => ({ request: { case: "rtm" as const, value } })),
  fc
    .record({
      uid: fc.oneof(
        fc.constant(""),
        fc.string({ unit: fc.constantFrom(...CHAT_CHARS), minLength: 1, maxLength: 64 }),
      ),
      expireSeconds: validExpire,
    })
    .map((value) => ({ request: { case: "chat" as const, value } })),
);

/** A valid name with one character from anywhere put in at any place. */
const nameWithOneForeignChar = fc
  .tuple(
    agoraName(63),
    fc.oneof(
      // The printable ASCII characters outside the set, and controls.
      fc.constantFrom('"', "'", "*", "/", "\\", "`", "\t", "\n", "\u007f", "\u0000"),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    ),
    fc.nat(),
  )
  .map(([name, char, at]) => {
    const index = at % (name.length + 1);
    return name.slice(0, index) + char + name.slice(index);
  });

/** Strings near and far from the rules: valid names, edge values, any Unicode, long ones. */
export const anyText = fc.oneof(
  agoraName(70),
  nameWithOneForeignChar,
  fc.constantFrom("", "0", " ", " a", "*", "a/b", "4294967296", "x".repeat(65), "é", "\u0000"),
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);

const anyUint32 = fc.oneof(
  validExpire,
  fc.constantFrom(86_401, 0x7fff_ffff, 0xffff_ffff),
  fc.nat({ max: 0xffff_ffff }),
);

/** A valid request with one field changed to any value: each rule gets tried on its own. */
const nearValidRequest: fc.Arbitrary<GetTokenInit> = fc
  .tuple(
    validRequest,
    fc.constantFrom("channel", "uid", "role", "expireSeconds"),
    fc.oneof(nameWithOneForeignChar, anyText),
    anyUint32,
  )
  .map(([init, field, text, number]) => {
    const request = init.request;
    if (request?.case === undefined || request.value === undefined) return init;
    const value: Record<string, unknown> = { ...request.value };
    if (!(field in value)) return init;
    value[field] = field === "role" ? (number % 7) - 2 : field === "expireSeconds" ? number : text;
    return { request: { case: request.case, value } } as GetTokenInit;
  });

/** Any `GetTokenRequest` the wire can carry: any strings, any uint32, unknown enum values. */
export const anyRequest: fc.Arbitrary<GetTokenInit> = fc.oneof(
  validRequest,
  { weight: 3, arbitrary: nearValidRequest },
  fc
    .record({
      channel: anyText,
      uid: anyText,
      role: fc.integer({ min: -3, max: 5 }),
      expireSeconds: anyUint32,
    })
    .map((value) => ({ request: { case: "rtc" as const, value } })),
  fc.record({ uid: anyText, channel: anyText, expireSeconds: anyUint32 }).map((value) => ({
    request: { case: "rtm" as const, value },
  })),
  fc.record({ uid: anyText, expireSeconds: anyUint32 }).map((value) => ({
    request: { case: "chat" as const, value },
  })),
  fc.constant({}),
);

/** A legacy flat body for a valid request. */
export const validLegacyBody = validRequest.map((init): Record<string, unknown> => {
  const request = init.request;
  switch (request?.case) {
    case "rtc":
      return {
        tokenType: "rtc",
        channel: request.value.channel,
        uid: request.value.uid,
        role: request.value.role === 1 ? "publisher" : "subscriber",
        expire: request.value.expireSeconds,
      };
    case "rtm":
      return {
        tokenType: "rtm",
        uid: request.value.uid,
        channel: request.value.channel,
        expire: request.value.expireSeconds,
      };
    case "chat":
      return { tokenType: "chat", uid: request.value.uid, expire: request.value.expireSeconds };
    default:
      throw new Error(`validRequest made a request the legacy body cannot carry: ${request?.case}`);
  }
});

const anyJsonField = fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 }), anyUint32, fc.integer());

/** A valid legacy body with one field changed, added or removed. */
const nearValidLegacyBody = fc
  .tuple(
    validLegacyBody,
    fc.constantFrom("tokenType", "channel", "uid", "role", "expire"),
    fc.oneof(nameWithOneForeignChar, anyText, anyJsonField, fc.constant(undefined)),
  )
  .map(([body, field, value]) => {
    const changed = { ...body };
    if (value === undefined) delete changed[field];
    else changed[field] = value;
    return changed;
  });

/** Legacy bodies near the contract: right keys with wrong, odd or valid values. */
export const anyLegacyBody = fc.oneof(
  validLegacyBody,
  { weight: 3, arbitrary: nearValidLegacyBody },
  fc.record(
    {
      tokenType: fc.oneof(fc.constantFrom("rtc", "rtm", "chat", "RTC", ""), anyJsonField),
      channel: anyJsonField,
      uid: fc.oneof(anyText, fc.nat(), fc.integer(), fc.double(), anyJsonField),
      role: fc.oneof(fc.constantFrom("publisher", "subscriber", "admin"), anyJsonField),
      expire: fc.oneof(anyUint32, fc.integer(), fc.double(), anyJsonField),
    },
    { requiredKeys: [] },
  ),
);

/** Raw bodies of every kind: JSON documents, strings and bytes. */
export const anyJsonText = fc.jsonValue().map((value) => JSON.stringify(value));
export const anyBytes = fc.uint8Array({ maxLength: 400 });
