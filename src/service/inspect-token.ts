import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type InspectTokenRequest,
  type InspectTokenResponse,
  InspectTokenResponseSchema,
  SignedWith,
} from "../../gen/agora/token/v1/token_service_pb.js";
import type { Credentials } from "../token/credentials.js";
import type { TokenProblem } from "../token/parse-access-token2.js";
import { createTokenInspector, type SignedWith as Signer } from "../token/token-inspector.js";
import type { Clock } from "../token/token-minter.js";

const signedWithProto: Record<Signer, SignedWith> = {
  "app-certificate": SignedWith.APP_CERTIFICATE,
  "secondary-certificate": SignedWith.SECONDARY_CERTIFICATE,
  neither: SignedWith.UNSPECIFIED,
};

export interface InspectTokenOptions {
  credentials: Credentials;
  clock?: Clock;
  /** Receives unexpected errors (bugs); callers only ever see a generic Internal error. */
  onInternalError?: (error: unknown) => void;
}

/**
 * The `InspectToken` RPC. A string that is not a token becomes `InvalidArgument` saying what is
 * wrong, with the {@link TokenProblem} as `cause`.
 */
export function createInspectToken({
  credentials,
  clock,
  onInternalError = () => {},
}: InspectTokenOptions): (request: InspectTokenRequest) => InspectTokenResponse {
  const inspector = createTokenInspector({ credentials, ...(clock && { clock }) });
  return (request) => {
    let result: ReturnType<typeof inspector.inspect>;
    try {
      result = inspector.inspect(request.token);
    } catch (error) {
      onInternalError(error);
      throw new ConnectError("internal error while reading the token", Code.Internal);
    }
    if (result.kind === "invalid") {
      const { violation } = result;
      throw new ConnectError(
        `token ${violation.rule}`,
        Code.InvalidArgument,
        undefined,
        undefined,
        violation,
      );
    }
    const { inspection } = result;
    const at = (seconds: number) => timestampFromMs(seconds * 1000);
    return create(InspectTokenResponseSchema, {
      appId: inspection.appId,
      appIdMatches: inspection.appIdMatches,
      issuedAt: at(inspection.issuedAt),
      expiresAt: at(inspection.expiresAt),
      expired: inspection.expired,
      signatureValid: inspection.signatureValid,
      signedWith: signedWithProto[inspection.signedWith],
      demoCredentials: inspection.demoCredentials,
      expireSeconds: inspection.expireSeconds,
      salt: inspection.salt,
      servicesIncomplete: inspection.servicesIncomplete,
      services: inspection.services.map((service) => ({
        // Proto3 enums are open: a type unknown here keeps its number.
        kind: service.type,
        channel: service.channel,
        uid: service.uid,
        userId: service.userId,
        privileges: service.privileges.map((privilege) => ({
          name: privilege.name,
          id: privilege.id,
          expiresAt: at(privilege.expiresAt),
          expireSeconds: privilege.expireSeconds,
        })),
      })),
    });
  };
}
