/**
 * True when `channel` matches `pattern`, where `*` stands for any run of characters (also none)
 * and every other character stands for itself. No other glob syntax: channel names may contain
 * `?`, `[` and `]`.
 */
export function matchesChannelGlob(pattern: string, channel: string): boolean {
  const parts = pattern.split("*");
  const first = parts[0] ?? "";
  if (parts.length === 1) return channel === pattern;
  const last = parts[parts.length - 1] ?? "";
  if (channel.length < first.length + last.length) return false;
  if (!channel.startsWith(first) || !channel.endsWith(last)) return false;
  // Greedy left-to-right search for the middle parts is exact for `*`-only globs.
  let position = first.length;
  const end = channel.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = channel.indexOf(part, position);
    if (found === -1 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}
