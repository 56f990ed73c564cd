import { ConfigError, loadConfig } from "../../src/load-config.js";

/** The problems `loadConfig` lists for `env`; fails the test when it accepts it. */
export function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
