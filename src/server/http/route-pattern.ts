import { createContextKey } from "@connectrpc/connect";

/** The pattern of the route a request matched (`/rtc/:channel/…`), for request logs and metrics. */
export const routePatternKey = createContextKey<string | undefined>(undefined, {
  description: "route pattern",
});
