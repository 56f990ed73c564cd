/**
 * Who is asking, once authenticated. `service`: a backend holding an API key (may mint
 * anything). `user`: an end user with a verified JWT (may mint only for themselves).
 * `anonymous`: open mode, nothing configured (may mint anything, as the Go service allowed).
 */
export type Caller =
  | { kind: "service"; name: string }
  | {
      kind: "user";
      /** The JWT `sub`, or the uid claim when there is no `sub`: who the rate limit counts. */
      subject: string;
      /** The value of the uid claim: the only uid this user may ask tokens for. */
      uid: string;
      /** Channel globs the user may join; `undefined` when no channels claim is configured. */
      channels: readonly string[] | undefined;
      /** True when the admin claim is `true`: unlocks uid 0 and Chat app tokens. */
      admin: boolean;
    }
  | { kind: "anonymous"; address: string };

/** The key a rate limit counts under: one bucket per API key, per user, or per client address. */
export function rateLimitKeyOf(caller: Caller): string {
  switch (caller.kind) {
    case "service":
      return `key:${caller.name}`;
    case "user":
      return `user:${caller.subject}`;
    case "anonymous":
      return `ip:${caller.address}`;
  }
}

/** How logs name a caller: never a credential, only the key's name, the subject or an address. */
export function describeCaller(caller: Caller): string {
  switch (caller.kind) {
    case "service":
      return `api key ${caller.name}`;
    case "user":
      return `user ${caller.subject}`;
    case "anonymous":
      return `anonymous ${caller.address}`;
  }
}
