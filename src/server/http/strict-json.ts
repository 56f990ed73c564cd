export type StrictJsonResult = { kind: "ok"; value: unknown } | { kind: "invalid"; reason: string };

/**
 * Parses one JSON document and nothing else: no trailing garbage, and no object that repeats a
 * key, even in another letter case (`uid` and `UID`), since which of the two wins is a guess.
 * A body that is not JSON gets a reason that says where and what was expected, and names the
 * usual mistakes (an empty or form-encoded body, single quotes, a trailing comma).
 */
export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: describeSyntaxError(text) };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const [first, second] = duplicate;
    return {
      kind: "invalid",
      reason:
        first === second
          ? `body repeats the key "${second}"`
          : `body has the keys "${first}" and "${second}", which differ only in letter case. Send one of them`,
    };
  }
  return { kind: "ok", value };
}

const FORM_ENCODED = /^[\w.%+-]+=[^{}[\]"]*$/;
const QUOTES_HINT = "JSON needs double quotes around keys and strings";

/** Why `text`, which `JSON.parse` refused, is not one JSON document, and where. */
function describeSyntaxError(text: string): string {
  if (text.trim() === "") return "body is empty. Send a JSON object with the request's fields";
  if (FORM_ENCODED.test(text.trim())) {
    return "body is form-encoded (name=value&…), not JSON. Send a JSON object with Content-Type application/json";
  }
  const error = locateSyntaxError(text);
  if (error === undefined) return "body must be one valid JSON document";
  const at = positionOf(text, error.at);
  switch (error.kind) {
    case "trailing-comma":
      return `body has a trailing comma at ${at}, before "${error.before}". Remove it (JSON allows none)`;
    case "single-quote":
      return `body uses single quotes at ${at}. ${QUOTES_HINT}`;
    case "bare-word": {
      const word = error.word.length > 20 ? `${error.word.slice(0, 20)}…` : error.word;
      return `body has ${word} without quotes at ${at}. ${QUOTES_HINT}`;
    }
    case "after-document":
      return `body has more after the JSON document at ${at}. Send exactly one JSON object`;
    case "end":
      return `body ends at ${at} before the JSON document does. Expected ${error.expected}`;
    case "string":
      return `body has ${error.problem} inside a string at ${at}`;
    case "unexpected":
      return `body is not valid JSON at ${at}. Expected ${error.expected}, found ${JSON.stringify(text[error.at])}`;
  }
}

type SyntaxErrorAt = { at: number } & (
  | { kind: "single-quote" | "after-document" }
  | { kind: "trailing-comma"; before: string }
  | { kind: "bare-word"; word: string }
  | { kind: "end" | "unexpected"; expected: string }
  | { kind: "string"; problem: string }
);

/** What may come next, from the grammar's point of view. */
type Next =
  | "value"
  | "first-value-or-end"
  | "next-value"
  | "first-key-or-end"
  | "next-key"
  | "colon"
  | "comma-or-end"
  | "done";

const VALUE = "a value (a string, number, object, array, true, false or null)";
const KEY = "a key in double quotes";
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z_$][\w$]*/y;

/**
 * The first place where `text` stops being one JSON document (RFC 8259). Iterative, with an
 * explicit stack, so that deep nesting within the body limit cannot overflow the call stack.
 */
function locateSyntaxError(text: string): SyntaxErrorAt | undefined {
  const open: ("{" | "[")[] = [];
  let next: Next = "value";
  let i = 0;
  let lastComma = 0;
  const afterValue = (): Next => (open.length === 0 ? "done" : "comma-or-end");
  const expected = (): string => {
    switch (next) {
      case "value":
      case "next-value":
        return VALUE;
      case "first-value-or-end":
        return `${VALUE} or "]"`;
      case "first-key-or-end":
        return `${KEY} or "}"`;
      case "next-key":
        return KEY;
      case "colon":
        return '":" after the key';
      case "comma-or-end":
        return open.at(-1) === "{" ? '"," or "}"' : '"," or "]"';
      case "done":
        return "nothing more";
    }
  };

  for (;;) {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
    if (i >= text.length) {
      return next === "done" ? undefined : { at: i, kind: "end", expected: expected() };
    }
    const char = text[i] as string;
    if (next === "done") return { at: i, kind: "after-document" };
    if (next === "colon") {
      if (char !== ":") return { at: i, kind: "unexpected", expected: expected() };
      i++;
      next = "value";
      continue;
    }
    if (next === "comma-or-end") {
      const top = open.at(-1);
      if (char === ",") {
        lastComma = i;
        i++;
        next = top === "{" ? "next-key" : "next-value";
      } else if ((char === "}" && top === "{") || (char === "]" && top === "[")) {
        open.pop();
        i++;
        next = afterValue();
      } else {
        return { at: i, kind: "unexpected", expected: expected() };
      }
      continue;
    }
    // A key, a value or the end of a container.
    const isKey: boolean = next === "first-key-or-end" || next === "next-key";
    if ((char === "}" && next === "next-key") || (char === "]" && next === "next-value")) {
      return { at: lastComma, kind: "trailing-comma", before: char };
    }
    if (
      (char === "}" && next === "first-key-or-end") ||
      (char === "]" && next === "first-value-or-end")
    ) {
      open.pop();
      i++;
      next = afterValue();
      continue;
    }
    if (char === "'") return { at: i, kind: "single-quote" };
    if (char === '"') {
      const end = endOfStringOrError(text, i);
      if (typeof end !== "number") return end;
      i = end;
      next = isKey ? "colon" : afterValue();
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text)?.[0];
    if (isKey) {
      return word === undefined
        ? { at: i, kind: "unexpected", expected: expected() }
        : { at: i, kind: "bare-word", word };
    }
    if (word === "true" || word === "false" || word === "null") {
      i += word.length;
      next = afterValue();
      continue;
    }
    if (word !== undefined) return { at: i, kind: "bare-word", word };
    if (char === "{" || char === "[") {
      open.push(char);
      i++;
      next = char === "{" ? "first-key-or-end" : "first-value-or-end";
      continue;
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text)?.[0];
    if (number === undefined) return { at: i, kind: "unexpected", expected: expected() };
    i += number.length;
    next = afterValue();
  }
}

/** The index after the string that opens at `start`, or what is wrong inside it. */
function endOfStringOrError(text: string, start: number): number | SyntaxErrorAt {
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '"') return i + 1;
    if (char.charCodeAt(0) < 0x20) {
      return {
        at: i,
        kind: "string",
        problem: "a line break or another control character (write it escaped, as \\n)",
      };
    }
    if (char === "\\") {
      const escaped = text[i + 1];
      if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
      else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) i += 1;
      else if (escaped !== undefined) {
        return { at: i, kind: "string", problem: `the invalid escape \\${escaped}` };
      }
    }
  }
  return { at: text.length, kind: "end", expected: 'the closing " of the string' };
}

/** `line L column C`, both from 1. */
function positionOf(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  const column = index - before.lastIndexOf("\n");
  return `line ${line} column ${column}`;
}

/**
 * Walks text that `JSON.parse` accepted and returns the first key that an object repeats
 * (compared case-insensitively), as it was first written and as it was repeated, if any.
 */
export function findDuplicateKey(text: string): [string, string] | undefined {
  // One entry per open container: the keys seen so far for an object (folded → as written),
  // null for an array.
  const stack: (Map<string, string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "{") stack.push(new Map());
    else if (char === "[") stack.push(null);
    else if (char === "}" || char === "]") stack.pop();
    else if (char === '"') {
      const end = closingQuoteOf(text, i);
      const keys = stack.at(-1);
      if (keys && isFollowedByColon(text, end + 1)) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const folded = key.toLowerCase();
        const earlier = keys.get(folded);
        if (earlier !== undefined) return [earlier, key];
        keys.set(folded, key);
      }
      i = end;
    }
  }
  return undefined;
}

/** Index of the closing quote of the string that opens at `start` (in valid JSON). */
function closingQuoteOf(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i;
}

function isFollowedByColon(text: string, from: number): boolean {
  let i = from;
  while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  return text[i] === ":";
}
