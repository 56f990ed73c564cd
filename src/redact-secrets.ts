/**
 * A function that replaces every occurrence of each secret in a text, in any letter case (a hex
 * certificate may be echoed upper- or lower-case), with `[redacted]`. Secrets shorter than 8
 * characters are ignored: replacing them would mangle ordinary text and protect nothing.
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const patterns = secrets
    .filter((secret) => secret.length >= 8)
    .map((secret) => new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi"));
  return (text) =>
    patterns.reduce((redacted, pattern) => redacted.replace(pattern, "[redacted]"), text);
}

/** {@link createRedactor} for one text. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return createRedactor(secrets)(text);
}
