/**
 * An Agora project's App ID and App Certificate, which tokens are signed with, and optionally its
 * secondary certificate, which tokens minted before a rotation may still be signed with.
 * Certificates are never printed or logged.
 */
export interface Credentials {
  readonly appId: string;
  readonly appCertificate: string;
  /** Only ever used to check signatures (InspectToken), never to sign. */
  readonly secondaryAppCertificate?: string | undefined;
}

const AGORA_ID = /^[0-9a-fA-F]{32}$/;

/**
 * True when `value` is 32 hexadecimal characters, the only form agora-token signs with (for
 * anything else it silently returns an empty token).
 */
export function isAgoraId(value: string): boolean {
  return AGORA_ID.test(value);
}
