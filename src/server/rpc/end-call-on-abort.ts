import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Ends every call when its signal aborts, with the reason it aborted for: the client's deadline
 * (`deadline_exceeded`), the maximum age of a stream (`unavailable`), the client going away
 * (`canceled`). connect-es only tells implementations, through the signal; one that does not
 * listen would otherwise run on, and a stream would end as a success. A unary call whose
 * deadline has already passed (`grpc-timeout: 0S`) fails before it starts.
 */
export const endCallOnAbort: Interceptor = (next) => async (req) => {
  const { signal } = req;
  const response = await untilAborted(next(req), signal);
  if (!response.stream) return response;
  return { ...response, message: iterateUntilAborted(response.message, signal) };
};

function reasonOf(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason, Code.Canceled);
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(reasonOf(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reasonOf(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The messages of `iterable` until the signal aborts; then the reason, and the source is closed. */
function iterateUntilAborted<T>(iterable: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const source = iterable[Symbol.asyncIterator]();
      const close = () => {
        source.return?.().catch(() => {});
      };
      return {
        next: () =>
          untilAborted(source.next(), signal).catch((error: unknown) => {
            if (signal.aborted) close();
            throw error;
          }),
        return: (value?: unknown) =>
          source.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        throw: (error?: unknown) => source.throw?.(error) ?? Promise.reject(error),
      };
    },
  };
}
