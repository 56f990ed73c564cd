import { deflateSync, inflateSync } from "node:zlib";
import {
  AccessToken2,
  Rtm2Permissions,
  Service,
  ServiceApaas,
  ServiceChat,
  ServiceConvoAI,
  ServiceFCdn,
  ServiceFpa,
  ServiceRtc,
  ServiceRtm,
  ServiceRtm2,
  ServiceStreaming,
  ServiceStt,
} from "agora-token/src/AccessToken2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_INFLATED_BYTES, parseAccessToken2 } from "../../src/token/parse-access-token2.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { withoutShownCharacters } from "../support/shown-characters.js";

// agora-token's own fixed vector: issued at 1111111, 600 s, salt 1, RTC join channel.
const VECTOR =
  "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj";

function contentOf(token: string): Buffer {
  return inflateSync(Buffer.from(token.slice(3), "base64"));
}

function tokenOf(content: Uint8Array): string {
  return `007${deflateSync(content).toString("base64")}`;
}

function problemOf(token: string) {
  const result = parseAccessToken2(token);
  if (result.kind !== "invalid") throw new Error(`expected a problem for ${token}`);
  return result.violation;
}

describe("parseAccessToken2()", () => {
  it("reads agora-token's fixed test vector field by field", () => {
    const result = parseAccessToken2(VECTOR);
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    expect(result.token).toMatchObject({
      appId: SAMPLE.appId,
      issuedAt: 1_111_111,
      expireSeconds: 600,
      salt: 1,
      servicesIncomplete: false,
      services: [
        {
          type: 1,
          channel: "7d72365eb983485397e3e3f9d460bdda",
          uid: "2882341273",
          userId: "",
          privileges: [{ id: 1, expireSeconds: 600 }],
        },
      ],
    });
    expect(result.token.signature).toHaveLength(32);
  });

  it("reports a service type it does not know by number and stops there", () => {
    const token = new AccessToken2(SAMPLE.appId, SAMPLE.appCertificate, 1_700_000_000, 60);
    const unknown = new Service(99);
    unknown.add_privilege(3, 30);
    token.add_service(new ServiceChat("bob"));
    token.add_service(unknown);
    token.add_service(new ServiceRtc("after", "1"));
    // agora-token packs services by type, so the RTC service comes first and the Chat one next.
    const result = parseAccessToken2(token.build());
    expect(result).toMatchObject({
      kind: "ok",
      token: {
        services: [
          { type: 1, channel: "after", uid: "1" },
          { type: 5, userId: "bob" },
          { type: 99, privileges: [{ id: 3, expireSeconds: 30 }] },
        ],
        servicesIncomplete: false,
      },
    });
    const first = new AccessToken2(SAMPLE.appId, SAMPLE.appCertificate, 1_700_000_000, 60);
    first.add_service(new Service(99));
    first.add_service(new Service(100));
    expect(parseAccessToken2(first.build())).toMatchObject({
      kind: "ok",
      token: { services: [{ type: 99, privileges: [] }], servicesIncomplete: true },
    });
  });

  it.each([
    ["an empty string", "", "required", /^is required$/],
    ["a huge string", `007${"A".repeat(20_000)}`, "too-long", /^must be at most 16384 characters/],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.e30.x", "prefix", /^must start with 007/],
    ["an AccessToken 006", "006970CA35de60c4IAD", "prefix", /^is an AccessToken \(006\)/],
    ["only the prefix", "007", "base64", /^has nothing after 007$/],
    [
      "a URL-encoded token",
      "007eJx%2BTYB",
      "base64",
      /^has the character "%" \(Unicode 0025\) at position 7 which is not base64 \(URL-decode the token first\)$/,
    ],
    [
      "a token whose plus became a space",
      "007eJx TYBBb",
      "base64",
      /^has the character Unicode 0020 \(space\) at position 7 which is not base64 \(a space often replaces/,
    ],
    [
      "a token with a trailing newline",
      `${VECTOR}\n`,
      "base64",
      new RegExp(
        `^has the character Unicode 000A \\(line feed\\) at position ${VECTOR.length + 1} which is not base64 \\(remove the whitespace`,
      ),
    ],
    [
      "URL-safe base64",
      "007eJx-TYBBb",
      "base64",
      /"-" \(Unicode 002D\) .* \(it looks URL-safe base64/,
    ],
    [
      "padding in the middle",
      "007eJ=xTYBBb",
      "base64",
      /"=" \(Unicode 003D\) .* \(padding belongs only at the end\)/,
    ],
    ["a cut token", VECTOR.slice(0, 50), "base64", /length after 007 is not a multiple of 4/],
    ["base64 that is not zlib", "007AAAAAAAA", "compression", /^is not zlib-compressed data/],
    [
      "a zlib stream cut short",
      `007${deflateSync(contentOf(VECTOR)).subarray(0, 40).toString("base64")}`,
      "truncated",
      /^is truncated \(its compressed data ends early\)$/,
    ],
    [
      "a zlib bomb",
      tokenOf(Buffer.alloc(MAX_INFLATED_BYTES + 1)),
      "compression",
      /^inflates to more than 65536 bytes$/,
    ],
  ])("refuses %s saying what is wrong", (_, token, problem, rule) => {
    const violation = problemOf(token);
    expect(violation.problem).toBe(problem);
    expect(violation.rule).toMatch(rule);
  });

  it("names the part a truncated token ends in, at every cut", () => {
    const content = contentOf(VECTOR);
    const parts = new Set<string>();
    for (let length = 0; length < content.length; length++) {
      const violation = problemOf(tokenOf(content.subarray(0, length)));
      expect(violation.problem).toBe("truncated");
      parts.add(violation.rule);
    }
    expect([...parts]).toEqual([
      "is truncated (it ends inside the signature)",
      "is truncated (it ends inside the app id)",
      "is truncated (it ends inside the issue time)",
      "is truncated (it ends inside the expiry)",
      "is truncated (it ends inside the salt)",
      "is truncated (it ends inside the service count)",
      "is truncated (it ends inside service 1 of 1)",
    ]);
  });

  it("keeps gRPC-unsafe characters out of every rule but beside their code point", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), (tail) => {
        for (const token of [tail, `007${tail}`, `006${tail}`]) {
          const result = parseAccessToken2(token);
          if (result.kind === "invalid") {
            expect(withoutShownCharacters(result.violation.rule)).not.toMatch(/[;/?:@&=+$,#]/);
          }
        }
      }),
    );
  });

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(["ok", "invalid"]).toContain(parseAccessToken2(text).kind);
        expect(parseAccessToken2(`007${text}`).kind).toBe("invalid");
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary compressed content and agrees with agora-token when both read it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const token = tokenOf(bytes);
        const result = parseAccessToken2(token);
        const agora = new AccessToken2("", "", 0, 0);
        if (result.kind === "ok" && agora.from_string(token)) {
          expect(result.token.issuedAt).toBe(agora.issueTs);
          expect(result.token.salt).toBe(agora.salt);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads mutated real tokens without throwing, as agora-token reads them when it can", () => {
    const content = contentOf(VECTOR);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(content.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const mutated = Buffer.from(content);
          for (const [at, value] of edits) mutated[at] = value;
          const token = tokenOf(mutated);
          const result = parseAccessToken2(token);
          if (result.kind !== "ok") return;
          const agora = new AccessToken2("", "", 0, 0);
          if (!agora.from_string(token)) return;
          const decoded = decodeToken(token);
          expect(result.token.appId).toBe(decoded.appId);
          expect(result.token.expireSeconds).toBe(decoded.expireSeconds);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads every token agora-token builds exactly as agora-token reads it back", () => {
    const name = fc.string({ unit: "binary-ascii", maxLength: 40 });
    const service = fc.oneof(
      fc.tuple(name, name).map(([channel, uid]) => new ServiceRtc(channel, uid)),
      name.map((user) => new ServiceRtm(user)),
      fc.tuple(name, name).map(([channel, account]) => new ServiceStreaming(channel, account)),
      fc.constant(null).map(() => new ServiceFpa()),
      name.map((user) => new ServiceChat(user)),
      fc.tuple(name, name).map(([channel, account]) => new ServiceFCdn(channel, account)),
      fc
        .tuple(name, name, fc.integer({ min: 1, max: 3 }))
        .map(([room, user, role]) => new ServiceApaas(room, user, role)),
      fc.tuple(name, fc.array(name, { maxLength: 3 })).map(([user, channels]) => {
        const permissions = new Rtm2Permissions();
        permissions.add(0, 1, channels);
        return new ServiceRtm2(user, permissions);
      }),
      fc.constant(null).map(() => new ServiceConvoAI()),
      fc.constant(null).map(() => new ServiceStt()),
    );
    const privileges = fc.dictionary(
      fc.integer({ min: 0, max: 65_535 }).map(String),
      fc.nat(0xffff_ffff),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(
        // agora-token replaces an issue time of 0 by the current time.
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.nat(0xffff_ffff),
        fc.integer({ min: 1, max: 99_999_999 }),
        fc.array(fc.tuple(service, privileges), { minLength: 1, maxLength: 5 }),
        (issuedAt, expire, salt, services) => {
          const token = new AccessToken2(SAMPLE.appId, SAMPLE.appCertificate, issuedAt, expire);
          token.salt = salt;
          for (const [built, granted] of services) {
            for (const [id, seconds] of Object.entries(granted)) {
              built.add_privilege(Number(id), seconds);
            }
            token.add_service(built);
          }
          const text = token.build();
          const result = parseAccessToken2(text);
          const agora = new AccessToken2("", "", 0, 0);
          expect(agora.from_string(text)).toBe(true);
          expect(result.kind).toBe("ok");
          if (result.kind !== "ok") return;
          expect(result.token).toMatchObject({ appId: SAMPLE.appId, issuedAt, salt });
          expect(result.token.expireSeconds).toBe(expire);
          expect(result.token.servicesIncomplete).toBe(false);
          const field = (read: Service, key: string) =>
            String((read as unknown as Record<string, Buffer | string | undefined>)[key] ?? "");
          expect(result.token.services).toEqual(
            agora.services.map((read) => ({
              type: read.service_type(),
              privileges: Object.entries(read.__privileges)
                .map(([id, seconds]) => ({ id: Number(id), expireSeconds: seconds }))
                .sort((a, b) => a.id - b.id),
              channel: field(read, "__channel_name") || field(read, "__room_uuid"),
              uid: field(read, "__uid") || field(read, "__account"),
              userId: field(read, "__user_id") || field(read, "__user_uuid"),
            })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
