import { constants, Deflate, deflateSync } from "node:zlib";

/** Inputs up to this many bytes use the reused engine: they fit its window without sliding. */
const MAX_INPUT_BYTES = 16 * 1024;
/** Room for the deflated form of any input up to `MAX_INPUT_BYTES` (deflate adds < 1 %). */
const OUTPUT_BYTES = MAX_INPUT_BYTES + 1024;

/** Node's zlib binding, as `processChunkSync` in lib/zlib.js drives it since Node 0.12. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
}

/** One zlib engine at `deflateSync`'s settings; `deflate` gives undefined when it cannot. */
interface ReusedEngine {
  deflate(input: Buffer): string | undefined;
}

/**
 * `deflateSync(input).toString("base64")`, byte for byte, without a new zlib stream per call:
 * opening one (its JS stream object, a 16 KiB output buffer, a 256 KiB native state) costs about
 * as much as deflating a token. One engine is reset and reused instead.
 *
 * A reset engine alone is not enough: zlib's `deflateReset` keeps the window, and the match
 * search reads up to 258 bytes past the end of the input, where a fresh stream has zeros and a
 * reused one has the previous input's bytes; about 3 inputs in 1,000 then deflate differently.
 * So before an input shorter than the one before, the engine deflates that many zeros (and is
 * reset again), which leaves its window as a fresh stream's. The property tests against
 * agora-token (`test/token/`) prove the tokens identical; when Node's internals are not as
 * expected, every call falls back to `deflateSync`.
 */
export function createTokenDeflater(): (input: Buffer) => string {
  let engine = openEngine();
  return (input) => {
    const deflated = input.length <= MAX_INPUT_BYTES ? engine?.deflate(input) : undefined;
    if (deflated !== undefined) return deflated;
    // Start from a fresh engine: the failed call may have left this one in any state.
    if (engine !== undefined) engine = openEngine();
    return deflateSync(input).toString("base64");
  };
}

function openEngine(): ReusedEngine | undefined {
  const stream = new Deflate() as Deflate & { _handle?: unknown; _writeState?: unknown };
  const handle = stream._handle as Partial<ZlibHandle> | undefined;
  const state = stream._writeState;
  if (
    typeof handle?.writeSync !== "function" ||
    typeof handle.reset !== "function" ||
    !(state instanceof Uint32Array)
  ) {
    return undefined;
  }
  const zlib = handle as ZlibHandle;
  // A zlib error destroys the stream at once (and emits "error" later, which must not throw).
  stream.on("error", () => {});
  const output = Buffer.allocUnsafe(OUTPUT_BYTES);
  const zeros = Buffer.alloc(MAX_INPUT_BYTES);
  /** How many bytes at the start of the window the last input left non-zero. */
  let dirty = 0;

  /** Deflates `length` bytes of `input` in one go; the output's length, or -1. */
  function finish(input: Buffer, length: number): number {
    zlib.writeSync(constants.Z_FINISH, input, 0, length, output, 0, OUTPUT_BYTES);
    const [outputLeft, inputLeft] = state as Uint32Array;
    if (stream.destroyed || inputLeft !== 0 || outputLeft === 0 || outputLeft === undefined)
      return -1;
    return OUTPUT_BYTES - outputLeft;
  }

  return {
    deflate(input) {
      if (stream.destroyed) return undefined;
      if (input.length < dirty) {
        // The window past this input must hold zeros, as a fresh stream's does.
        if (finish(zeros, dirty) < 0) return undefined;
        zlib.reset();
      }
      dirty = input.length;
      const length = finish(input, input.length);
      if (length < 0) return undefined;
      const base64 = output.toString("base64", 0, length);
      zlib.reset();
      return base64;
    },
  };
}
