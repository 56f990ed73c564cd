export type StrictJsonResult = { kind: "ok"; value: unknown } | { kind: "invalid"; reason: string };

/**
 * Parses one JSON document and nothing else: no trailing garbage, and no object that repeats a
 * key, even in another letter case (`uid` and `UID`), since which of the two wins is a guess.
 */
export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "body must be one valid JSON document" };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    return { kind: "invalid", reason: `body repeats the key "${duplicate}"` };
  }
  return { kind: "ok", value };
}

/**
 * Walks text that `JSON.parse` accepted and returns the first key that an object repeats
 * (compared case-insensitively), if any.
 */
export function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "{") stack.push(new Set());
    else if (char === "[") stack.push(null);
    else if (char === "}" || char === "]") stack.pop();
    else if (char === '"') {
      const end = endOfString(text, i);
      const keys = stack.at(-1);
      if (keys && isFollowedByColon(text, end + 1)) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const folded = key.toLowerCase();
        if (keys.has(folded)) return key;
        keys.add(folded);
      }
      i = end;
    }
  }
  return undefined;
}

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i;
}

function isFollowedByColon(text: string, from: number): boolean {
  let i = from;
  while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  return text[i] === ":";
}
