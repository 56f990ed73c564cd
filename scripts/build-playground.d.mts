/** Builds the playground into `outdir` (default dist/playground) and resolves with it. */
export function buildPlayground(outdir?: string): Promise<string>;
