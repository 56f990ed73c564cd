import { createHmac } from "node:crypto";
import { createTokenDeflater } from "./create-token-deflater.js";
import type { Credentials } from "./credentials.js";
import {
  type PrivilegeGrant,
  type ServiceGrant,
  ServiceType,
  type TokenGrant,
} from "./token-grant.js";

const VERSION = "007";
/** Room for any token this service mints: names are at most 255 bytes, services at most 3. */
const SCRATCH_BYTES = 4096;

/**
 * Encodes and signs an AccessToken2 the way agora-token's `AccessToken2.build()` does, byte for
 * byte, without its per-field 1 KiB buffers and copies: one scratch buffer, the first HMAC
 * cached per issue second, one zlib engine reused ({@link createTokenDeflater}).
 * `test/token/encode-access-token.test.ts` proves the output identical to agora-token's over
 * thousands of random grants.
 */
export function createAccessTokenEncoder(credentials: Credentials) {
  const appId = Buffer.from(credentials.appId, "utf8");
  const certificate = Buffer.from(credentials.appCertificate, "utf8");
  const scratch = Buffer.alloc(SCRATCH_BYTES);
  const uint32 = Buffer.alloc(4);
  const deflate = createTokenDeflater();
  let cachedIssuedAt = -1;
  let cachedIssueKey = Buffer.alloc(0);

  /** HMAC-SHA256(key = issue time, certificate): the same for every token of one second. */
  function issueKey(issuedAt: number): Buffer {
    if (issuedAt !== cachedIssuedAt) {
      uint32.writeUInt32LE(issuedAt, 0);
      cachedIssueKey = createHmac("sha256", uint32).update(certificate).digest();
      cachedIssuedAt = issuedAt;
    }
    return cachedIssueKey;
  }

  return function encode(grant: TokenGrant, issuedAt: number, salt: number): string {
    // Signed part: app id, issue time, lifetime, salt, then the services in type order.
    let at = writeBytes(scratch, 0, appId);
    at = scratch.writeUInt32LE(issuedAt, at);
    at = scratch.writeUInt32LE(grant.expireSeconds, at);
    at = scratch.writeUInt32LE(salt, at);
    at = scratch.writeUInt16LE(grant.services.length, at);
    for (const service of sortedByType(grant.services)) {
      at = writeService(scratch, at, service);
    }
    const signingInfo = scratch.subarray(0, at);

    uint32.writeUInt32LE(salt, 0);
    const signingKey = createHmac("sha256", uint32).update(issueKey(issuedAt)).digest();
    const signature = createHmac("sha256", signingKey).update(signingInfo).digest();

    // Content: the signature as a length-prefixed string, then the signed part.
    const content = Buffer.allocUnsafe(2 + signature.length + signingInfo.length);
    let offset = writeBytes(content, 0, signature);
    offset += signingInfo.copy(content, offset);
    return VERSION + deflate(content.subarray(0, offset));
  };
}

function sortedByType(services: readonly ServiceGrant[]): readonly ServiceGrant[] {
  // agora-token packs services by type, keeping insertion order within a type.
  for (let i = 1; i < services.length; i++) {
    if ((services[i - 1]?.type ?? 0) > (services[i]?.type ?? 0)) {
      return [...services].sort((left, right) => left.type - right.type);
    }
  }
  return services;
}

function writeService(buffer: Buffer, start: number, service: ServiceGrant): number {
  let at = buffer.writeUInt16LE(service.type, start);
  const privileges = ascendingUnique(service.privileges);
  at = buffer.writeUInt16LE(privileges.length, at);
  for (const privilege of privileges) {
    at = buffer.writeUInt16LE(privilege.id, at);
    at = buffer.writeUInt32LE(privilege.expireSeconds, at);
  }
  switch (service.type) {
    case ServiceType.rtc:
      at = writeString(buffer, at, service.channel);
      return writeString(buffer, at, service.uid);
    case ServiceType.rtm:
    case ServiceType.chat:
      return writeString(buffer, at, service.userId);
    case ServiceType.convoAi:
    case ServiceType.stt:
      // Conversational AI and speech to text have no fields of their own.
      return at;
  }
}

/**
 * agora-token keeps privileges in an object keyed by number: they come out once each, ascending,
 * with the lifetime given last.
 */
function ascendingUnique(privileges: readonly PrivilegeGrant[]): readonly PrivilegeGrant[] {
  for (let i = 1; i < privileges.length; i++) {
    if ((privileges[i - 1]?.id ?? 0) >= (privileges[i]?.id ?? 0)) {
      const byId = new Map(privileges.map((privilege) => [privilege.id, privilege]));
      return [...byId.values()].sort((left, right) => left.id - right.id);
    }
  }
  return privileges;
}

function writeString(buffer: Buffer, start: number, value: string): number {
  const length = buffer.write(value, start + 2, "utf8");
  // A write that reaches the end of the scratch buffer may have been cut short.
  if (start + 2 + length >= buffer.length) throw new RangeError("token fields too long");
  buffer.writeUInt16LE(length, start);
  return start + 2 + length;
}

function writeBytes(buffer: Buffer, start: number, bytes: Buffer): number {
  const at = buffer.writeUInt16LE(bytes.length, start);
  return at + bytes.copy(buffer, at);
}
