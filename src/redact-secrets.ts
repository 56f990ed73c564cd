/**
 * Replaces every occurrence of each secret in `text`, in any letter case (a hex certificate may
 * be echoed upper- or lower-case), with `[redacted]`. Secrets shorter than 8 characters are
 * ignored: replacing them would mangle ordinary text and protect nothing.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    const pattern = new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
    redacted = redacted.replace(pattern, "[redacted]");
  }
  return redacted;
}
