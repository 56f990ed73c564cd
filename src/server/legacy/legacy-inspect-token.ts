import { create, toJson } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type InspectTokenRequest,
  InspectTokenRequestSchema,
  InspectTokenResponseSchema,
  type TokenService,
} from "../../../gen/agora/token/v1/token_service_pb.js";
import { readBody, sendBodyTooLarge, sendJson } from "../http/json-response.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import { jsonObjectFromBody, LegacyInputError } from "./legacy-request.js";

export interface LegacyInspectTokenOptions {
  service: ServiceImpl<typeof TokenService>;
  maxBodyBytes: number;
  /** The handler context, as the legacy routes make it for every call. */
  context: HandlerContext;
}

/**
 * `POST /inspectToken` with `{"token": "007…"}`: an adapter onto the same `InspectToken`. Answers
 * the response's proto JSON with every field present, so legacy callers see the fields Connect
 * callers see. Throws `LegacyInputError` or `ConnectError` for the legacy routes to answer.
 */
export async function legacyInspectToken(
  req: NodeRequest,
  res: NodeResponse,
  { service, maxBodyBytes, context }: LegacyInspectTokenOptions,
): Promise<void> {
  const body = await readBody(req, maxBodyBytes);
  // The client went away mid-body: nobody is left to answer.
  if (body.kind === "aborted") return;
  if (body.kind === "too-large") return sendBodyTooLarge(req, res, maxBodyBytes);
  const request = inspectTokenRequestFromJson(body.bytes);
  const response = create(InspectTokenResponseSchema, await service.inspectToken(request, context));
  const json = toJson(InspectTokenResponseSchema, response, { alwaysEmitImplicit: true });
  sendJson(res, 200, json as Record<string, unknown>);
}

/** The body is one JSON object (no repeated keys) whose `token` is a string. */
export function inspectTokenRequestFromJson(bytes: Buffer): InspectTokenRequest {
  const token = jsonObjectFromBody(bytes).token ?? undefined;
  if (token === undefined) throw new LegacyInputError("token is required");
  if (typeof token !== "string") throw new LegacyInputError("token must be a string");
  return create(InspectTokenRequestSchema, { token });
}
