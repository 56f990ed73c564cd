import { createContextKey } from "@connectrpc/connect";

/**
 * The name of the authenticated caller of a request (a service or key name, never a credential).
 * Authentication sets it on the request's context values (`contextValues.set(callerKey, name)` in
 * an interceptor, or `context.values` in a handler); the request log reads it. Absent: anonymous.
 */
export const callerKey = createContextKey<string | undefined>(undefined, {
  description: "authenticated caller",
});
