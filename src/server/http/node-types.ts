import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

/** An HTTP/1.1 or HTTP/2 request, as connect-node's adapter accepts it. */
export type NodeRequest = Parameters<NodeHandler>[0];
/** An HTTP/1.1 or HTTP/2 response, as connect-node's adapter accepts it. */
export type NodeResponse = Parameters<NodeHandler>[1];
