import { setTimeout as sleep } from "node:timers/promises";

export type ShutdownPhase = "unready" | "draining" | "stopped";

export interface ShutdownSequenceOptions {
  /** Turns the server unready (readiness and gRPC health), for good. */
  readiness: { beginShutdown(): void };
  /**
   * How long requests are still served after readiness turns off, so that load balancers and
   * Kubernetes withdraw the endpoint before the listener closes, in ms.
   */
  delayMs: number;
  /** Closes the listener and drains the requests in flight. */
  close: () => Promise<void>;
  onPhase?: (phase: ShutdownPhase) => void;
}

/**
 * Shutdown in the order load balancers need: not ready (readiness and gRPC health) at once, keep
 * serving for `delayMs`, then stop accepting connections and let requests in flight finish.
 */
export async function runShutdownSequence({
  readiness,
  delayMs,
  close,
  onPhase = () => {},
}: ShutdownSequenceOptions): Promise<void> {
  readiness.beginShutdown();
  onPhase("unready");
  if (delayMs > 0) await sleep(delayMs);
  onPhase("draining");
  await close();
  onPhase("stopped");
}
