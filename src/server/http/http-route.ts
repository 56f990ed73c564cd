import type { NodeRequest, NodeResponse } from "./node-types.js";

/** Answers a request and returns true, or returns false to let the next route try. */
export type HttpRoute = (req: NodeRequest, res: NodeResponse) => boolean;
