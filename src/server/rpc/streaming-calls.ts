import { Code, ConnectError } from "@connectrpc/connect";

/** How long a stream ended at its maximum age may take to close before it is cut, in ms. */
export const STREAM_CLOSE_GRACE_MS = 5_000;

export interface StreamingCallsOptions {
  /** Most streaming calls open at once; more are refused with `resource_exhausted`. */
  maxStreamingCalls: number;
  /** Longest a streaming call stays open before it is ended with `unavailable`, in ms. */
  maxAgeMs: number;
  /** How long a call that was ended may take to close before it is cut, in ms. */
  closeGraceMs: number;
}

export type Admission =
  | { kind: "admitted"; signal: AbortSignal }
  | { kind: "refused"; error: ConnectError };

export interface StreamingCalls {
  /**
   * Admits one streaming call, or refuses it when the bound is reached. The signal it gives aborts
   * when `requestSignal` does, or when the call reaches its maximum age, with the `unavailable`
   * error the call must end with. The call is counted until `requestSignal` aborts, which
   * connect-node does when the response closes, however the call ended; `cut` closes the
   * connection or stream of a call still open `closeGraceMs` after its maximum age.
   */
  admit(requestSignal: AbortSignal, cut: () => void): Admission;
  /** Streaming calls open now. */
  readonly open: number;
}

/**
 * The bound on streaming calls (`grpc.health.v1.Health/Watch` needs no credentials): how many
 * may be open at once, apart from connections and unary calls, and how long each may last on
 * every protocol and HTTP version. A call at its maximum age is ended the protocol's own way (a
 * gRPC status, a Connect end-of-stream message) with `unavailable`: the status gRPC servers use
 * when they end calls to recycle connections, which every client treats as safe to retry. One
 * still not closed `closeGraceMs` later (its client stopped reading) is cut.
 */
export function createStreamingCalls({
  maxStreamingCalls,
  maxAgeMs,
  closeGraceMs,
}: StreamingCallsOptions): StreamingCalls {
  let open = 0;
  return {
    get open() {
      return open;
    },
    admit(requestSignal, cut) {
      if (open >= maxStreamingCalls) {
        return {
          kind: "refused",
          error: new ConnectError(
            `this server already has ${maxStreamingCalls} streaming calls open (MAX_STREAMING_CALLS). Retry later`,
            Code.ResourceExhausted,
          ),
        };
      }
      open += 1;
      const call = new AbortController();
      let closed = false;
      let grace: NodeJS.Timeout | undefined;
      const age = setTimeout(() => {
        call.abort(
          new ConnectError(
            `the stream reached its maximum age of ${maxAgeMs} ms (STREAMING_CALL_MAX_AGE_MS). Open a new one to go on`,
            Code.Unavailable,
          ),
        );
        grace = setTimeout(() => {
          if (!closed) cut();
        }, closeGraceMs);
      }, maxAgeMs);
      const onClose = () => {
        closed = true;
        open -= 1;
        clearTimeout(age);
        clearTimeout(grace);
        call.abort(requestSignal.reason);
      };
      if (requestSignal.aborted) onClose();
      else requestSignal.addEventListener("abort", onClose, { once: true });
      return { kind: "admitted", signal: call.signal };
    },
  };
}
