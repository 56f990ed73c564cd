import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { batchedLines } from "../../src/observability/logger.js";

describe("batchedLines()", () => {
  it("writes one turn's lines together by the next turn, in writes of whole lines of at most 4 KiB", async () => {
    const writes: string[] = [];
    const destination = batchedLines({ write: (chunk: string) => writes.push(chunk) });
    const lines = Array.from(
      { length: 60 },
      (_, i) => `${JSON.stringify({ i, pad: "é".repeat(100) })}\n`,
    );
    for (const line of lines) destination.write(line);
    await nextTurn();
    expect(writes.join("")).toBe(lines.join(""));
    expect(writes.length).toBeGreaterThan(1);
    for (const chunk of writes) {
      expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(4096);
      expect(chunk.endsWith("\n")).toBe(true);
    }
    destination.write("last\n");
    await nextTurn();
    expect(writes.at(-1)).toBe("last\n");
  });
});
