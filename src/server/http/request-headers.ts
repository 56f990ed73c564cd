import type { NodeRequest } from "./node-types.js";

/** A Node request's headers as Fetch `Headers`, as Connect hands them to handlers. */
export function requestHeadersOf(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (`:path`…) are not headers.
    if (name.startsWith(":") || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}
