import type { NodeRequest } from "./node-types.js";

/**
 * How far to believe `X-Forwarded-For`: `false` not at all (the socket's peer is the client),
 * a number N for N proxies of yours in front (the Nth address from the right is the client),
 * `true` for the left-most address (only behind proxies that overwrite the header).
 */
export type TrustProxy = boolean | number;

/** The caller's IP address; `X-Forwarded-For` counts only as far as `trustProxy` says. */
export function clientAddressOf(req: NodeRequest, trustProxy: TrustProxy): string {
  const peer = normalize(req.socket?.remoteAddress ?? "unknown");
  if (trustProxy === false || trustProxy === 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((address) => address.trim())
    .filter((address) => address !== "")
    .map(normalize);
  const chain = [...forwarded, peer];
  const index = trustProxy === true ? 0 : Math.max(0, chain.length - 1 - trustProxy);
  return chain[index] ?? peer;
}

/** `::ffff:192.0.2.1` (IPv4 on a dual-stack socket) is `192.0.2.1`. */
function normalize(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Reads `TRUST_PROXY`: unset, `false` or `0`; `true`; or a number of proxies from 1 to 10. */
export function readTrustProxy(raw: string | undefined, problems: string[]): TrustProxy {
  if (raw === undefined || raw === "" || raw === "false" || raw === "0") return false;
  if (raw === "true") return true;
  if (/^([1-9]|10)$/.test(raw)) return Number(raw);
  problems.push("TRUST_PROXY must be false, true or a number of proxies from 1 to 10");
  return false;
}
