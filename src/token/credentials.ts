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

/**
 * Public sample credentials from agora-token's own tests. Agora rejects tokens signed with them;
 * they only let a fresh clone start and answer at once outside production.
 */
export const DEMO_CREDENTIALS: Credentials = Object.freeze({
  appId: "970CA35de60c44645bbae8a215061b33",
  appCertificate: "5CFd2fd1755d40ecb72977518be15d3b",
});

/** True when `credentials` sign with the public {@link DEMO_CREDENTIALS}, which Agora refuses. */
export function signsWithDemoCredentials(credentials: Credentials): boolean {
  return (
    credentials.appId === DEMO_CREDENTIALS.appId &&
    credentials.appCertificate === DEMO_CREDENTIALS.appCertificate
  );
}

const AGORA_ID = /^[0-9a-fA-F]{32}$/;

/**
 * True when `value` is 32 hexadecimal characters, the only form agora-token signs with (for
 * anything else it silently returns an empty token).
 */
export function isAgoraId(value: string): boolean {
  return AGORA_ID.test(value);
}
