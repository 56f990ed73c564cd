import { describe, expect, it } from "vitest";
import { createTokenMinter } from "../../src/token/token-minter.js";
import { codePointName } from "../../src/token/token-rules.js";
import { SAMPLE } from "../support/decode-token.js";

describe("codePointName()", () => {
  it.each([
    ["/", '"/" (Unicode 002F)'],
    ["é", '"é" (Unicode 00E9)'],
    ['"', `'"' (Unicode 0022)`],
    ["😀", '"😀" (Unicode 1F600)'],
    ["\t", "Unicode 0009 (tab)"],
    ["\n", "Unicode 000A (line feed)"],
    [" ", "Unicode 0020 (space)"],
    ["\u00a0", "Unicode 00A0 (no-break space)"],
    ["\u200b", "Unicode 200B (zero-width space)"],
    ["\u2003", "Unicode 2003"],
    ["\u0001", "Unicode 0001"],
    ["\u0301", "Unicode 0301"],
    ["\ud800", "Unicode D800 (lone surrogate)"],
  ])("shows %j as %s", (char, shown) => {
    expect(codePointName(char)).toBe(shown);
  });

  it("names the invisible character a request carries, as the service says it", () => {
    const minter = createTokenMinter({ credentials: SAMPLE });
    const base = { kind: "rtc", uid: "1", role: "publisher", expireSeconds: 60 } as const;
    const refusal = (channel: string) => {
      const result = minter.mint({ ...base, channel, privilegeExpireSeconds: 0 });
      return result.kind === "invalid" ? result.violation.rule : "minted";
    };
    expect(refusal("room\u200b1")).toBe(
      "has the character Unicode 200B (zero-width space) which is not in Agora's character set",
    );
    expect(refusal("room/1")).toBe(
      `has the character "/" (Unicode 002F) which is not in Agora's character set`,
    );
  });
});
