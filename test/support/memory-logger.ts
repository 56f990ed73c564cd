import { createLogger } from "../../src/observability/logger.js";

/** The service's logger at debug level, writing into memory for a test to read. */
export function memoryLogger() {
  let text = "";
  const logger = createLogger({
    level: "debug",
    destination: {
      write(line: string) {
        text += line;
      },
    },
  });
  return {
    logger,
    /** Every line logged so far, parsed. */
    logLines: () =>
      text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    /** Everything logged so far, as written. */
    logText: () => text,
  };
}
