/**
 * Why `entry` is not a web origin as browsers write it in `Origin` (`scheme://host[:port]`,
 * lower case, no default port, no path), with the fix; `undefined` when it is one. An entry that
 * differs from its origin in any way could never match what a browser sends.
 */
export function originProblem(entry: string): string | undefined {
  if (entry === "*") return "is not an origin (this setting has no wildcard)";
  const withScheme = /^https?:\/\//i.test(entry);
  if (!withScheme) {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry)
      ? "must start with http:// or https://"
      : `has no scheme. Write https://${entry} (or http:// for a plain-HTTP page)`;
  }
  const url = URL.canParse(entry) ? new URL(entry) : undefined;
  if (url === undefined || url.host === "") return "is not a URL";
  if (entry === url.origin) return undefined;
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  const extra = entry.slice(entry.indexOf("//") + 2).replace(/^[^/?#]*/, "");
  if (extra !== "") {
    return `must be an origin (scheme://host[:port]) with nothing after it, not ${JSON.stringify(extra)}. Write ${url.origin}`;
  }
  return `is not written as browsers send it. Write ${url.origin}`;
}

/**
 * Reads a comma-separated list of origins from the setting `name` (blanks around entries
 * ignored), adding a problem for each entry that is not an origin.
 */
export function readOriginList(
  name: string,
  raw: string | undefined,
  problems: string[],
): string[] {
  const entries = (raw ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    const problem = originProblem(entry);
    if (problem !== undefined) problems.push(`${name} entry ${JSON.stringify(entry)} ${problem}`);
  }
  return entries.filter((entry) => originProblem(entry) === undefined);
}
