import { describe, expect, it } from "vitest";
import { redactSecrets } from "../src/redact-secrets.js";
import { SAMPLE } from "./support/decode-token.js";

describe("redactSecrets()", () => {
  it("removes every occurrence of a secret in any letter case", () => {
    const text = `a ${SAMPLE.appCertificate} b ${SAMPLE.appCertificate.toUpperCase()} c`;
    expect(redactSecrets(text, [SAMPLE.appCertificate])).toBe("a [redacted] b [redacted] c");
  });

  it("leaves text without secrets alone and ignores short or empty secrets", () => {
    expect(redactSecrets("internal error at x.ts", ["", "x"])).toBe("internal error at x.ts");
  });
});
