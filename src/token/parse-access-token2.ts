import { inflateSync } from "node:zlib";
import { codePointName } from "./token-rules.js";

/** Longest token string read, in characters; agora-token's tokens are a few hundred. */
export const MAX_TOKEN_CHARS = 16_384;
/** Most bytes a token may inflate to: a cap on the work hostile input can cause. */
export const MAX_INFLATED_BYTES = 65_536;

const VERSION = "007";
const BASE64_CHAR = /^[A-Za-z0-9+/]$/;

/** One privilege as the token states it: an id within its service and a relative lifetime. */
export interface ParsedPrivilege {
  id: number;
  /** Seconds after the token's issue time. */
  expireSeconds: number;
}

/** One AccessToken2 service. Fields the service type does not have are "". */
export interface ParsedService {
  type: number;
  privileges: ParsedPrivilege[];
  /** RTC, streaming and FCDN channel; APaaS room UUID. */
  channel: string;
  /** RTC uid or account ("" = uid 0); streaming and FCDN account. */
  uid: string;
  /** RTM, RTM 2 and Chat user id; APaaS user UUID. */
  userId: string;
}

export interface ParsedAccessToken2 {
  appId: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Seconds after `issuedAt`. */
  expireSeconds: number;
  salt: number;
  signature: Buffer;
  /** The bytes the signature covers: everything after the signature. */
  signedContent: Buffer;
  services: ParsedService[];
  /** A service of an unknown type stopped the reading; the services after it are missing. */
  servicesIncomplete: boolean;
}

/** What is wrong with a string that is not a readable AccessToken2 token. */
export interface TokenProblem {
  problem: "required" | "too-long" | "prefix" | "base64" | "compression" | "truncated";
  /**
   * The rule in words, to follow the word "token". Never contains `; / ? : @ & = + $ , #`:
   * gRPC clients leave those percent-encoded in error messages.
   */
  rule: string;
}

export type ParseTokenResult =
  | { kind: "ok"; token: ParsedAccessToken2 }
  | { kind: "invalid"; violation: TokenProblem };

/**
 * Reads an AccessToken2 ("007…") token without trusting it: every length is checked against the
 * bytes that are there, the inflated size is capped, and any defect is returned as a
 * {@link TokenProblem} instead of thrown. agora-token's `from_string` only answers true or false.
 */
export function parseAccessToken2(token: string): ParseTokenResult {
  if (token.length === 0) return invalid("required", "is required");
  if (token.length > MAX_TOKEN_CHARS) {
    return invalid(
      "too-long",
      `must be at most ${MAX_TOKEN_CHARS} characters long (got ${token.length})`,
    );
  }
  if (!token.startsWith(VERSION)) {
    return token.startsWith("006")
      ? invalid("prefix", "is an AccessToken (006) and only AccessToken2 (007) tokens can be read")
      : invalid("prefix", "must start with 007 (the AccessToken2 version)");
  }
  const base64 = token.slice(VERSION.length);
  const base64Problem = checkBase64(base64);
  if (base64Problem) return invalid("base64", base64Problem);

  let content: Buffer;
  try {
    content = inflateSync(Buffer.from(base64, "base64"), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      return invalid("compression", `inflates to more than ${MAX_INFLATED_BYTES} bytes`);
    }
    if (code === "Z_BUF_ERROR") {
      return invalid("truncated", "is truncated (its compressed data ends early)");
    }
    return invalid("compression", "is not zlib-compressed data after its base64 decoding");
  }

  const reader = new TokenReader(content);
  try {
    const signature = reader.bytes("the signature");
    const signedContent = content.subarray(reader.position);
    const appId = reader.string("the app id");
    const issuedAt = reader.uint32("the issue time");
    const expireSeconds = reader.uint32("the expiry");
    const salt = reader.uint32("the salt");
    const count = reader.uint16("the service count");
    const services: ParsedService[] = [];
    let servicesIncomplete = false;
    for (let index = 1; index <= count; index++) {
      const service = readService(reader, `service ${index} of ${count}`);
      services.push(service.service);
      if (!service.known) {
        servicesIncomplete = index < count;
        break;
      }
    }
    return {
      kind: "ok",
      token: {
        appId,
        issuedAt,
        expireSeconds,
        salt,
        signature,
        signedContent,
        services,
        servicesIncomplete,
      },
    };
  } catch (error) {
    if (error instanceof Truncated) {
      return invalid("truncated", `is truncated (it ends inside ${error.part})`);
    }
    throw error;
  }
}

function invalid(problem: TokenProblem["problem"], rule: string): ParseTokenResult {
  return { kind: "invalid", violation: { problem, rule } };
}

/** Standard base64 with padding, as agora-token writes it; Node's decoder would skip junk. */
function checkBase64(text: string): string | undefined {
  if (text.length === 0) return "has nothing after 007";
  // Characters that are never base64 first: they say more about how a token got damaged.
  let outside = -1;
  for (let at = 0; at < text.length && outside === -1; at++) {
    const char = text.charAt(at);
    if (!BASE64_CHAR.test(char) && char !== "=") outside = at;
  }
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const misplacedPad = text.indexOf("=");
  const index = outside !== -1 ? outside : misplacedPad < text.length - padding ? misplacedPad : -1;
  if (index !== -1) {
    const char = text.charAt(index);
    const position = index + VERSION.length + 1;
    return `has the character ${codePointName(text.slice(index, index + 2))} at position ${position} which is not base64${hintFor(char)}`;
  }
  if (text.length % 4 !== 0) {
    return "is not valid base64 (its length after 007 is not a multiple of 4 so it was cut short or lost its padding)";
  }
  return undefined;
}

function hintFor(char: string): string {
  if (char === "=") return " (padding belongs only at the end)";
  if (char === "%") return " (URL-decode the token first)";
  if (char === " ")
    return " (a space often replaces a plus sign when a token is put in a URL unencoded)";
  if (char === "-" || char === "_")
    return " (it looks URL-safe base64 but tokens use standard base64)";
  if (/\s/.test(char)) return " (remove the whitespace around the token)";
  return "";
}

/** A read past the end; `part` names what was being read. */
class Truncated extends Error {
  constructor(readonly part: string) {
    super(`truncated in ${part}`);
  }
}

/** Little-endian reads, as AccessToken2 packs; each checks that the bytes are there. */
class TokenReader {
  position = 0;
  constructor(private readonly buffer: Buffer) {}

  private take(length: number, part: string): number {
    const start = this.position;
    if (start + length > this.buffer.length) throw new Truncated(part);
    this.position = start + length;
    return start;
  }
  uint16(part: string): number {
    return this.buffer.readUInt16LE(this.take(2, part));
  }
  int16(part: string): number {
    return this.buffer.readInt16LE(this.take(2, part));
  }
  uint32(part: string): number {
    return this.buffer.readUInt32LE(this.take(4, part));
  }
  bytes(part: string): Buffer {
    const length = this.uint16(part);
    const start = this.take(length, part);
    return this.buffer.subarray(start, start + length);
  }
  string(part: string): string {
    return this.bytes(part).toString("utf8");
  }
}

/** Service types whose fields this parser knows, from agora-token's AccessToken2. */
const serviceReaders: Record<
  number,
  (reader: TokenReader, part: string, into: ParsedService) => void
> = {
  1: (reader, part, into) => {
    into.channel = reader.string(part);
    into.uid = reader.string(part);
  },
  2: (reader, part, into) => {
    into.userId = reader.string(part);
  },
  3: (reader, part, into) => {
    into.channel = reader.string(part);
    into.uid = reader.string(part);
  },
  4: () => {},
  5: (reader, part, into) => {
    into.userId = reader.string(part);
  },
  6: (reader, part, into) => {
    into.channel = reader.string(part);
    into.uid = reader.string(part);
  },
  7: (reader, part, into) => {
    into.channel = reader.string(part);
    into.userId = reader.string(part);
    reader.int16(part); // the APaaS role, not reported
  },
  8: (reader, part, into) => {
    into.userId = reader.string(part);
    // Resource permissions: read to find where the next service starts, not reported.
    const resourceTypes = reader.uint16(part);
    for (let type = 0; type < resourceTypes; type++) {
      reader.uint16(part);
      const permissions = reader.uint16(part);
      for (let permission = 0; permission < permissions; permission++) {
        reader.uint16(part);
        const resources = reader.uint16(part);
        for (let resource = 0; resource < resources; resource++) reader.bytes(part);
      }
    }
  },
  9: () => {},
  10: () => {},
};

/**
 * One service: its type, its privileges (every AccessToken2 service starts with these two), then
 * the fields of its type. `known` is false for a type whose fields are unknown here.
 */
function readService(
  reader: TokenReader,
  part: string,
): { service: ParsedService; known: boolean } {
  const type = reader.uint16(part);
  const privilegeCount = reader.uint16(part);
  const privileges: ParsedPrivilege[] = [];
  for (let index = 0; index < privilegeCount; index++) {
    privileges.push({ id: reader.uint16(part), expireSeconds: reader.uint32(part) });
  }
  privileges.sort((a, b) => a.id - b.id);
  const service: ParsedService = { type, privileges, channel: "", uid: "", userId: "" };
  const readFields = Object.hasOwn(serviceReaders, type) ? serviceReaders[type] : undefined;
  readFields?.(reader, part, service);
  return { service, known: readFields !== undefined };
}
