import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Asks `url` again with a `no-cors` GET, whose answer the page may not read: true when anything
 * answered (an opaque response), false when nothing did (refused, unknown host, no answer in 5 s).
 */
export type Probe = (url: string) => Promise<boolean>;

export const probeNoCors: Probe = async (url) => {
  try {
    await fetch(url, {
      mode: "no-cors",
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(5000),
    });
    return true;
  } catch {
    return false;
  }
};

/**
 * Why a call to the token service at `serviceUrl` failed when the answer is not the service's
 * own: nothing answers there, it refuses this page's origin (CORS), or it is not a token service.
 * `undefined` for an error the service itself sent, whose code and message say it.
 */
export async function explainCallFailure(
  error: unknown,
  serviceUrl: string,
  pageOrigin: string,
  probe: Probe = probeNoCors,
): Promise<string | undefined> {
  const connectError = ConnectError.from(error);
  const target = new URL(serviceUrl).origin;
  // fetch() rejects with a TypeError, and tells the page nothing else, both when nothing
  // answers and when the answer lacks the CORS headers that would let the page read it.
  if (connectError.cause instanceof TypeError) {
    if (!(await probe(serviceUrl))) {
      return `No service answers at ${target}: it is not running, or the host or port in the Service URL is wrong.`;
    }
    if (target !== pageOrigin) {
      return `${target} answers but does not let pages from ${pageOrigin} call it: add ${pageOrigin} to that service's CORS_ALLOW_ORIGIN (comma-separated origins), or open the playground it serves at ${target}/. If ${target} is not a token service, correct the Service URL.`;
    }
    return undefined;
  }
  // Both methods exist on every token service: not found means something else answered.
  const status = /^HTTP (\d+)$/.exec(connectError.rawMessage)?.[1];
  if (
    connectError.code === Code.Unimplemented ||
    status !== undefined ||
    connectError.rawMessage.startsWith("unsupported content type")
  ) {
    // A JSON 404 body that is no Connect error leaves only the code (from the status).
    const answer =
      status !== undefined
        ? `HTTP ${status}`
        : connectError.rawMessage !== ""
          ? `"${connectError.rawMessage}"`
          : "not found";
    return `${serviceUrl} is not a token service: it answered ${answer} to a TokenService call. The Service URL is the address the service listens on, without a path (such as http://localhost:8080).`;
  }
  return undefined;
}
