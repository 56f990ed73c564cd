import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../src/server/strict-json.js";

describe("parseStrictJson()", () => {
  it("parses one JSON document", () => {
    expect(parseStrictJson(' {"a": [1, {"b": "x"}], "c": "\\"}"} ')).toEqual({
      kind: "ok",
      value: { a: [1, { b: "x" }], c: '"}' },
    });
  });

  it.each([
    ['{"a":1} {"a":2}', /one valid JSON document/],
    ['{"a":1}garbage', /one valid JSON document/],
    ["", /one valid JSON document/],
    ['{"uid":"alice","uid":"0"}', /repeats the key "uid"/],
    ['{"uid":"alice","UID":"0"}', /repeats the key "UID"/],
    ['{"x":{"k":1,"k":2}}', /repeats the key "k"/],
  ])("refuses %j", (text, reason) => {
    const result = parseStrictJson(text);
    expect(result.kind).toBe("invalid");
    if (result.kind === "invalid") expect(result.reason).toMatch(reason);
  });

  it("allows the same key in different objects and strings that look like keys", () => {
    expect(parseStrictJson('[{"k":1},{"k":2}]').kind).toBe("ok");
    expect(parseStrictJson('{"a":"k","b":["k","k"],"k":"\\\\"}').kind).toBe("ok");
  });
});
