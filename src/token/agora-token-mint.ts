import {
  AccessToken2,
  type Service,
  ServiceChat,
  ServiceConvoAI,
  ServiceRtc,
  ServiceRtm,
  ServiceStt,
} from "agora-token/src/AccessToken2.js";
import type { Credentials } from "./credentials.js";
import { type ServiceGrant, ServiceType, type TokenGrant } from "./token-grant.js";

export interface MintOptions {
  credentials: Credentials;
  /** Issue time, whole seconds since the Unix epoch. */
  issuedAt: number;
  /** AccessToken2 salt, 1 to 99999999. */
  salt: number;
}

/**
 * Signs `grant` with agora-token's own AccessToken2 builder: the reference that the service's
 * faster encoder must match byte for byte (tests and `npm run bench:mint` use it). Throws when
 * agora-token yields no token, which it does silently for malformed credentials.
 */
export function mintWithAgoraToken(
  grant: TokenGrant,
  { credentials, issuedAt, salt }: MintOptions,
): string {
  const token = new AccessToken2(
    credentials.appId,
    credentials.appCertificate,
    issuedAt,
    grant.expireSeconds,
  );
  token.salt = salt;
  for (const granted of grant.services) {
    const service = agoraService(granted);
    for (const privilege of granted.privileges) {
      service.add_privilege(privilege.id, privilege.expireSeconds);
    }
    token.add_service(service);
  }
  const built = token.build();
  if (built === "") throw new Error("agora-token built an empty token");
  return built;
}

function agoraService(granted: ServiceGrant): Service {
  switch (granted.type) {
    case ServiceType.rtc:
      return new ServiceRtc(granted.channel, granted.uid);
    case ServiceType.rtm:
      return new ServiceRtm(granted.userId);
    case ServiceType.chat:
      return new ServiceChat(granted.userId);
    case ServiceType.convoAi:
      return new ServiceConvoAI();
    case ServiceType.stt:
      return new ServiceStt();
  }
}
