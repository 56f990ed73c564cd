import type { PresentedCredentials } from "../../auth/authenticator.js";
import type { NodeRequest } from "./node-types.js";

/**
 * Every `Authorization` and `X-API-Key` header of `req`, as sent (HTTP/1.1 and HTTP/2). Node
 * keeps only the first `Authorization` in `req.headers` (and joins repeated `X-API-Key`s), so a
 * proxy in front that reads the last one could authorize someone else: the guard needs them all.
 */
export function credentialHeadersOf(req: NodeRequest): PresentedCredentials {
  const authorization: string[] = [];
  const apiKey: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "authorization") authorization.push(raw[i + 1] as string);
    else if (name === "x-api-key") apiKey.push(raw[i + 1] as string);
  }
  return { authorization, apiKey };
}
