import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createTokenDeflater } from "../../src/token/create-token-deflater.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);

/** Token-sized inputs, some of few distinct bytes (long matches), some of random bytes. */
const input = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1200 }),
  fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1200 }))
    .chain(([alphabet, length]) =>
      fc.uint8Array({ minLength: length, maxLength: length, max: alphabet }),
    ),
);

describe("createTokenDeflater()", () => {
  it("gives deflateSync's bytes for every input of a sequence, longer and shorter in turn", () => {
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 40 }), (inputs) => {
        const deflate = createTokenDeflater();
        for (const bytes of inputs) {
          const buffer = Buffer.from(bytes);
          expect(deflate(buffer)).toBe(deflateSync(buffer).toString("base64"));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("gives deflateSync's bytes for an input too large for its engine, and after it", () => {
    const deflate = createTokenDeflater();
    const small = Buffer.from("channel user 0123456789 channel user");
    const large = Buffer.alloc(40_000, "agora token ");
    for (const buffer of [small, large, small]) {
      expect(deflate(buffer)).toBe(deflateSync(buffer).toString("base64"));
    }
  });
});
