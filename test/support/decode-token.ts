import {
  AccessToken2,
  kChatServiceType,
  kRtcServiceType,
  kRtmServiceType,
  type Service,
} from "agora-token/src/AccessToken2.js";

/** The sample credentials from agora-token's own tests (public, not accepted by Agora). */
export const SAMPLE = {
  appId: "970CA35de60c44645bbae8a215061b33",
  appCertificate: "5CFd2fd1755d40ecb72977518be15d3b",
} as const;

export interface DecodedService {
  type: number;
  channel?: string;
  uid?: string;
  userId?: string;
  /** Privilege number → lifetime in seconds. */
  privileges: Record<number, number>;
}

export interface DecodedToken {
  appId: string;
  issuedAt: number;
  expireSeconds: number;
  salt: number;
  signatureValid: boolean;
  services: DecodedService[];
}

/** Parses a token with agora-token's own parser and checks its signature with `certificate`. */
export function decodeToken(
  token: string,
  certificate: string = SAMPLE.appCertificate,
): DecodedToken {
  const parsed = new AccessToken2("", "", 0, 0);
  if (!parsed.from_string(token)) throw new Error(`not an AccessToken2: ${token}`);
  const text = (value: Buffer | string) => value.toString();
  const services = parsed.services.map((service: Service): DecodedService => {
    const privileges = { ...service.__privileges };
    const raw = service as Service & Record<string, Buffer | string>;
    switch (service.service_type()) {
      case kRtcServiceType:
        return {
          type: kRtcServiceType,
          channel: text(raw.__channel_name ?? ""),
          uid: text(raw.__uid ?? ""),
          privileges,
        };
      case kRtmServiceType:
      case kChatServiceType:
        return { type: service.service_type(), userId: text(raw.__user_id ?? ""), privileges };
      default:
        return { type: service.service_type(), privileges };
    }
  });
  return {
    appId: parsed.appId.toString(),
    issuedAt: parsed.issueTs,
    expireSeconds: parsed.expire,
    salt: parsed.salt,
    signatureValid: parsed.verifySignature(certificate),
    services,
  };
}

/** Privileges that all last `seconds`. */
export function privilegesFor(ids: number[], seconds: number): Record<number, number> {
  return Object.fromEntries(ids.map((id) => [id, seconds]));
}
