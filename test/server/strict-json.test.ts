import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../src/server/http/strict-json.js";

describe("parseStrictJson()", () => {
  it("parses one JSON document", () => {
    expect(parseStrictJson(' {"a": [1, {"b": "x"}], "c": "\\"}"} ')).toEqual({
      kind: "ok",
      value: { a: [1, { b: "x" }], c: '"}' },
    });
  });

  it.each([
    ["", "body is empty. Send a JSON object with the request's fields"],
    [" \n", "body is empty. Send a JSON object with the request's fields"],
    [
      "tokenType=rtc&channel=room&uid=42",
      "body is form-encoded (name=value&…), not JSON. Send a JSON object with Content-Type application/json",
    ],
    [
      '{"tokenType":"rtc",}',
      'body has a trailing comma at line 1 column 19, before "}". Remove it (JSON allows none)',
    ],
    [
      '{\n  "uid": [1, 2,\n  ]\n}',
      'body has a trailing comma at line 2 column 15, before "]". Remove it (JSON allows none)',
    ],
    [
      "{'tokenType':'rtc'}",
      "body uses single quotes at line 1 column 2. JSON needs double quotes around keys and strings",
    ],
    [
      '{"tokenType":rtc}',
      "body has rtc without quotes at line 1 column 14. JSON needs double quotes around keys and strings",
    ],
    [
      '{tokenType:"rtc"}',
      "body has tokenType without quotes at line 1 column 2. JSON needs double quotes around keys and strings",
    ],
    [
      '{"a":1} {"a":2}',
      "body has more after the JSON document at line 1 column 9. Send exactly one JSON object",
    ],
    [
      '{"a":1}garbage',
      "body has more after the JSON document at line 1 column 8. Send exactly one JSON object",
    ],
    ['{"a":1', 'body ends at line 1 column 7 before the JSON document does. Expected "," or "}"'],
    [
      '{"a":"x',
      'body ends at line 1 column 8 before the JSON document does. Expected the closing " of the string',
    ],
    ['{"a" 1}', 'body is not valid JSON at line 1 column 6. Expected ":" after the key, found "1"'],
    [
      '{"a":"line\nbreak"}',
      "body has a line break or another control character (write it escaped, as \\n) inside a string at line 1 column 11",
    ],
    ['{"a":"\\x"}', "body has the invalid escape \\x inside a string at line 1 column 7"],
    ['{"uid":"alice","uid":"0"}', 'body repeats the key "uid"'],
    [
      '{"uid":"alice","UID":"0"}',
      'body has the keys "uid" and "UID", which differ only in letter case. Send one of them',
    ],
    ['{"x":{"k":1,"k":2}}', 'body repeats the key "k"'],
  ])("refuses %j saying where and why", (text, reason) => {
    expect(parseStrictJson(text)).toEqual({ kind: "invalid", reason });
  });

  it("finds the place in a deeply nested body without running out of stack", () => {
    const deep = `${"[".repeat(8000)}1,${"]".repeat(8000)}`;
    expect(parseStrictJson(deep)).toEqual({
      kind: "invalid",
      reason:
        'body has a trailing comma at line 1 column 8002, before "]". Remove it (JSON allows none)',
    });
  });

  it("allows the same key in different objects and strings that look like keys", () => {
    expect(parseStrictJson('[{"k":1},{"k":2}]').kind).toBe("ok");
    expect(parseStrictJson('{"a":"k","b":["k","k"],"k":"\\\\"}').kind).toBe("ok");
  });
});
