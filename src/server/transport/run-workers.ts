import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";

export interface RunWorkersOptions {
  /** How many worker processes serve the one port. */
  count: number;
  logger: Logger;
}

/**
 * The primary process of `WORKERS=n`: forks n workers that each run the whole service on the
 * same port (node:cluster hands out connections), replaces a worker that dies, and on SIGTERM
 * or SIGINT passes the signal on and resolves once every worker has drained and exited.
 */
export function runWorkers({ count, logger }: RunWorkersOptions): Promise<void> {
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork();
    worker.once("exit", (code, signal) => onExit(worker, code, signal));
  };
  const onExit = (worker: Worker, code: number | null, signal: string | null) => {
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, "worker died: starting another");
    fork();
  };
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count }, `started ${count} workers`);

  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info(
        `${signal} received: stopping ${Object.keys(cluster.workers ?? {}).length} workers`,
      );
      const workers = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined,
      );
      let running = workers.length;
      if (running === 0) resolve();
      for (const worker of workers) {
        worker.once("exit", () => {
          running -= 1;
          if (running === 0) resolve();
        });
        worker.process.kill(signal);
      }
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
