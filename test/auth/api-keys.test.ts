import { describe, expect, it } from "vitest";
import {
  apiKeyEntriesFromFile,
  apiKeyEntriesFromList,
  findApiKey,
  hashApiKey,
  parseApiKeys,
} from "../../src/auth/api-keys.js";

const KEY_A = "a-very-long-secret-key-1";
const KEY_B = "b-very-long-secret:key2";

describe("parseApiKeys()", () => {
  it("keeps each key only as its SHA-256 digest, under its name", () => {
    const { keys, problems } = parseApiKeys([`web:${KEY_A}`, `jobs:${KEY_B}`], "API_KEYS");
    expect(problems).toEqual([]);
    expect(keys).toEqual([
      { name: "web", digest: hashApiKey(KEY_A) },
      { name: "jobs", digest: hashApiKey(KEY_B) },
    ]);
    expect(JSON.stringify(keys)).not.toContain(KEY_A);
    // SHA-256 test vector from FIPS 180-2.
    expect(hashApiKey("abc").toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("names the entry and the rule, never the key", () => {
    const { keys, problems } = parseApiKeys(
      ["nokey", "bad name:0123456789abcdef", "short:tooshort1", "ok:has a space inside", "one:x"],
      "API_KEYS",
    );
    expect(keys).toEqual([]);
    expect(problems).toEqual([
      "API_KEYS entry 1 must be name:key",
      "API_KEYS entry 2 has a name that is not 1 to 64 of A-Z a-z 0-9 _ . -",
      "API_KEYS entry 3 (short) needs a key of 16 to 512 printable characters without spaces (got 9 characters)",
      "API_KEYS entry 4 (ok) needs a key of 16 to 512 printable characters without spaces (got 18 characters)",
      "API_KEYS entry 5 (one) needs a key of 16 to 512 printable characters without spaces (got 1 character)",
    ]);
    expect(problems.join("\n")).not.toContain("tooshort1");
  });

  it("splits API_KEYS on commas and API_KEYS_FILE on lines, skipping blanks and comments", () => {
    expect(apiKeyEntriesFromList(` web:${KEY_A} ,, jobs:${KEY_B}`)).toEqual([
      `web:${KEY_A}`,
      `jobs:${KEY_B}`,
    ]);
    expect(apiKeyEntriesFromFile(`# keys\r\nweb:${KEY_A}\r\n\n  jobs:${KEY_B}  \n`)).toEqual([
      `web:${KEY_A}`,
      `jobs:${KEY_B}`,
    ]);
  });
});

describe("findApiKey()", () => {
  const { keys } = parseApiKeys([`web:${KEY_A}`, `jobs:${KEY_B}`], "API_KEYS");

  it("finds the key whose digest matches, and nothing for any other string", () => {
    expect(findApiKey(keys, KEY_B)?.name).toBe("jobs");
    expect(findApiKey(keys, KEY_A)?.name).toBe("web");
    expect(findApiKey(keys, `${KEY_A}x`)).toBeUndefined();
    expect(findApiKey(keys, KEY_A.slice(0, -1))).toBeUndefined();
    expect(findApiKey(keys, "")).toBeUndefined();
    expect(findApiKey([], KEY_A)).toBeUndefined();
  });
});
