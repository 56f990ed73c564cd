import { createHash, timingSafeEqual } from "node:crypto";
import { countNoun } from "../count-noun.js";

/** A service caller's API key, kept only as its SHA-256 digest; the name is for logs and metrics. */
export interface ApiKey {
  readonly name: string;
  readonly digest: Buffer;
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Shorter keys can be guessed; longer ones are a pasting accident. */
const MIN_KEY_CHARS = 16;
const MAX_KEY_CHARS = 512;
const KEY_CHARS = /^[\x21-\x7E]+$/;

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/**
 * The key whose digest equals the digest of `presented`, compared in constant time against every
 * key (no early exit), so timing tells neither the key nor which one matched.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = hashApiKey(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && found === undefined) found = key;
  }
  return found;
}

/**
 * Parses `name:key` entries (from `API_KEYS`, split on commas, or `API_KEYS_FILE`, one per line
 * with `#` comments). Problems name the source and entry, never the key.
 */
export function parseApiKeys(
  entries: readonly string[],
  source: string,
): { keys: ApiKey[]; problems: string[] } {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const where = `${source} entry ${index + 1}`;
    const colon = entry.indexOf(":");
    if (colon === -1) {
      problems.push(`${where} must be name:key`);
      return;
    }
    const name = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (!KEY_NAME.test(name)) {
      problems.push(`${where} has a name that is not 1 to 64 of A-Z a-z 0-9 _ . -`);
      return;
    }
    if (key.length < MIN_KEY_CHARS || key.length > MAX_KEY_CHARS || !KEY_CHARS.test(key)) {
      problems.push(
        `${where} (${name}) needs a key of ${MIN_KEY_CHARS} to ${MAX_KEY_CHARS} printable characters without spaces (got ${countNoun(key.length, "character")})`,
      );
      return;
    }
    keys.push({ name, digest: hashApiKey(key) });
  });
  return { keys, problems };
}

/** The entries of `API_KEYS`: comma-separated, blanks around entries ignored. */
export function apiKeyEntriesFromList(list: string): string[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** The entries of an `API_KEYS_FILE`: one per line, blank lines and `#` comments ignored. */
export function apiKeyEntriesFromFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
