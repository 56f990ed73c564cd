import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  type InspectTokenResponse,
  ServiceKind,
  SignedWith,
} from "../../gen/agora/token/v1/token_service_pb.js";

const serviceNames: Record<number, string> = {
  [ServiceKind.RTC]: "RTC",
  [ServiceKind.RTM]: "RTM",
  [ServiceKind.STREAMING]: "Streaming",
  [ServiceKind.FPA]: "FPA",
  [ServiceKind.CHAT]: "Chat",
  [ServiceKind.FCDN]: "FCDN",
  [ServiceKind.APAAS]: "APaaS",
  [ServiceKind.RTM2]: "RTM 2",
  [ServiceKind.CONVOAI]: "ConvoAI",
  [ServiceKind.STT]: "STT",
};

/** `"RTC (1)"`, or `"unknown (42)"` for a type this version does not name. */
export function serviceName(kind: number): string {
  return `${serviceNames[kind] ?? "unknown"} (${kind})`;
}

/** A duration in words: `"1h 2m 5s"`, `"59s"`. */
export function formatDuration(seconds: number): string {
  const total = Math.round(Math.abs(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  const parts = [
    hours && `${hours}h`,
    minutes && `${minutes}m`,
    (rest || total === 0) && `${rest}s`,
  ];
  return parts.filter(Boolean).join(" ");
}

/** `2026-01-01T00:00:00Z (in 10m 0s)` or `… (expired 5m ago)`, against `nowSeconds`. */
export function formatExpiry(at: Timestamp | undefined, nowSeconds: number): string {
  const seconds = Number(at?.seconds ?? 0n);
  const left = seconds - nowSeconds;
  const when = left > 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`;
  return `${formatTime(at)} (${when})`;
}

export function formatTime(at: Timestamp | undefined): string {
  return new Date(Number(at?.seconds ?? 0n) * 1000).toISOString().replace(".000Z", "Z");
}

/** What to say next to every token signed with the public demo credentials. */
export const DEMO_CREDENTIALS_WARNING =
  "signed with the public demo credentials so Agora rejects this token";

/** Whether the signature verifies, and with which of the service's certificates. */
export function signatureVerdict(inspection: InspectTokenResponse): string {
  // A demo signature "verifies" on a demo service, but no Agora project accepts it.
  if (inspection.demoCredentials) return DEMO_CREDENTIALS_WARNING;
  if (!inspection.signatureValid) return "NOT valid for this service's certificate";
  switch (inspection.signedWith) {
    case SignedWith.APP_CERTIFICATE:
      return "valid (signed with the App Certificate)";
    case SignedWith.SECONDARY_CERTIFICATE:
      return "valid (signed with the secondary certificate, being rotated out)";
    default:
      // A service from before certificate rotation does not say which.
      return "valid for this service's certificate";
  }
}

function appIdNote(inspection: InspectTokenResponse): string {
  if (inspection.demoCredentials) return "(the public demo App ID)";
  return inspection.appIdMatches ? "(this service's)" : "(NOT this service's App ID)";
}

/** The inspection as an aligned, readable report for a terminal. */
export function formatInspection(inspection: InspectTokenResponse, nowSeconds: number): string {
  const lines = [
    `App ID      ${inspection.appId} ${appIdNote(inspection)}`,
    `Signature   ${signatureVerdict(inspection)}`,
    `Issued at   ${formatTime(inspection.issuedAt)}`,
    `Expires at  ${formatExpiry(inspection.expiresAt, nowSeconds)}`,
    `Lifetime    ${formatDuration(inspection.expireSeconds)}`,
    `Salt        ${inspection.salt}`,
  ];
  for (const service of inspection.services) {
    const fields = [
      service.channel !== "" && `channel "${service.channel}"`,
      service.kind === ServiceKind.RTC &&
        `uid ${service.uid === "" ? "0 (any user)" : `"${service.uid}"`}`,
      service.kind !== ServiceKind.RTC && service.uid !== "" && `account "${service.uid}"`,
      service.userId !== "" && `user "${service.userId}"`,
      service.kind === ServiceKind.CHAT && service.userId === "" && "app token",
    ].filter(Boolean);
    lines.push("", `Service ${serviceName(service.kind)}  ${fields.join("  ")}`.trimEnd());
    for (const privilege of service.privileges) {
      const name = `${privilege.name || "unknown"} (${privilege.id})`;
      lines.push(`  ${name.padEnd(26)} expires ${formatExpiry(privilege.expiresAt, nowSeconds)}`);
    }
  }
  if (inspection.servicesIncomplete) {
    lines.push("", "More services follow one of an unknown type and cannot be read.");
  }
  return lines.join("\n");
}
