/** One condition for taking traffic, e.g. "Redis answers" when rate limits are shared there. */
export interface ReadinessCheck {
  /** Short name, shown by `/readyz` when the check fails. */
  name: string;
  /** True when ready; false, a rejection or no answer within the timeout means not ready. */
  check(): boolean | Promise<boolean>;
}

export type ReadinessResult = { kind: "ready" } | { kind: "not-ready"; reasons: string[] };

export interface Readiness {
  /** Runs every check (concurrently) unless shutting down. */
  check(): Promise<ReadinessResult>;
  /** From now on the server is not ready, for good: load balancers withdraw it. */
  beginShutdown(): void;
  isShuttingDown(): boolean;
  /** Resolves once {@link beginShutdown} is called. */
  readonly shutdownBegun: Promise<void>;
}

export interface ReadinessOptions {
  checks?: readonly ReadinessCheck[];
  /** A check that has not answered by then counts as failed, in ms. */
  checkTimeoutMs?: number;
}

/**
 * Whether this server should be sent traffic: not once shutdown has begun, nor while any of the
 * registered checks fails. Liveness is another matter: a server that is not ready is still alive.
 */
export function createReadiness({
  checks = [],
  checkTimeoutMs = 2_000,
}: ReadinessOptions = {}): Readiness {
  let shuttingDown = false;
  let resolveShutdown = () => {};
  const shutdownBegun = new Promise<void>((resolve) => {
    resolveShutdown = resolve;
  });

  return {
    async check() {
      if (shuttingDown) return { kind: "not-ready", reasons: ["shutting down"] };
      const failures = await Promise.all(checks.map((check) => failureOf(check, checkTimeoutMs)));
      const reasons = failures.filter((reason) => reason !== undefined);
      return reasons.length === 0 ? { kind: "ready" } : { kind: "not-ready", reasons };
    },
    beginShutdown() {
      shuttingDown = true;
      resolveShutdown();
    },
    isShuttingDown: () => shuttingDown,
    shutdownBegun,
  };
}

async function failureOf(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(() => check.check()), timedOut]);
    if (outcome === "timeout") return `${check.name} did not answer within ${timeoutMs} ms`;
    return outcome ? undefined : `${check.name} is not ready`;
  } catch {
    return `${check.name} failed`;
  } finally {
    clearTimeout(timer);
  }
}
