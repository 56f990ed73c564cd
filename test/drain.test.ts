import { Agent, request } from "node:http";
import { connect } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { RtcRole, TokenService } from "../gen/agora/token/v1/token_service_pb.js";
import { grpcJsClient } from "./support/clients.js";
import { decodeToken } from "./support/decode-token.js";
import { spawnService } from "./support/spawn-service.js";

/** One client that mints in a loop until the service refuses its connection. */
interface LoadClient {
  name: string;
  /** Mints one token; returns the uid it asked for and the token, or throws. */
  mint(round: number): Promise<{ uid: string; token: string; channel?: string }>;
  close?(): void;
}

interface LoadResult {
  name: string;
  minted: number;
  mintedAfterSignal: number;
  /** Errors other than a refusal: each is a request that was accepted and then lost. */
  unexpected: string[];
  /** HTTP/2 streams in flight when the GOAWAY came, refused unprocessed. */
  refusedStreams: number;
  /** The loop ended on a refused connection. */
  connectionRefused: boolean;
}

/**
 * True for a request the service never accepted: a connection to the closed port, or an HTTP/2
 * stream refused by the final GOAWAY (REFUSED_STREAM: not processed, safe to retry).
 */
function isRefused(error: unknown): boolean {
  const text = errorText(error);
  return text.includes("ECONNREFUSED") || text.includes(NOT_ACCEPTED) || isRefusedStream(error);
}

/**
 * A fresh connection reset before the service accepted it (see `sendOn`). Closing a listening
 * socket resets the connections still in the kernel's accept queue: a bare `node:http` server
 * does the same to clients that connect at that moment.
 */
const NOT_ACCEPTED = "NOT_ACCEPTED";

/** Sends one request through `agent` (`false`: a new connection); see {@link NOT_ACCEPTED}. */
function sendOn(
  agent: Agent | false,
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path,
        method,
        headers: { "Content-Type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      const fresh = !req.reusedSocket;
      reject(
        fresh && error.code === "ECONNRESET" ? Object.assign(error, { code: NOT_ACCEPTED }) : error,
      );
    });
    req.end(body ?? "");
  });
}

function isRefusedStream(error: unknown): boolean {
  return errorText(error).includes("REFUSED_STREAM");
}

function errorText(error: unknown): string {
  return [
    String(error),
    String((error as { cause?: unknown }).cause),
    String((error as { code?: unknown }).code),
    String((error as { details?: unknown }).details),
    String((error as { cause?: { code?: unknown } }).cause?.code),
  ].join(" ");
}

async function runLoad(
  client: LoadClient,
  signalled: () => boolean,
  warmedUp: () => void,
): Promise<LoadResult> {
  const result: LoadResult = {
    name: client.name,
    minted: 0,
    mintedAfterSignal: 0,
    unexpected: [],
    refusedStreams: 0,
    connectionRefused: false,
  };
  // Bounded: the service is gone well before this many rounds.
  for (let round = 0; round < 100_000; round++) {
    try {
      const { uid, token, channel } = await client.mint(round);
      const [service] = decodeToken(token).services;
      expect(service?.uid ?? service?.userId).toBe(uid);
      if (channel !== undefined) expect(service?.channel).toBe(channel);
      result.minted += 1;
      if (signalled()) result.mintedAfterSignal += 1;
      if (result.minted === 20) warmedUp();
    } catch (error) {
      if (isRefused(error)) {
        result.connectionRefused = !isRefusedStream(error);
        if (result.connectionRefused) break;
        // Not processed, so the client may retry: its next connection must then be refused.
        result.refusedStreams += 1;
        continue;
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      result.unexpected.push(
        [error instanceof Error ? error.message : String(error), cause?.code ?? cause?.message]
          .filter(Boolean)
          .join(": "),
      );
      if (result.unexpected.length > 10) break;
    }
  }
  client.close?.();
  return result;
}

function loadClients(port: number): LoadClient[] {
  const baseUrl = `http://127.0.0.1:${port}`;
  // node:http rather than fetch: `reusedSocket` tells a request lost on a connection the server
  // had accepted (a failure) from a fresh connection reset while still in the kernel's accept
  // queue when the listener closed, which the service never saw (as good as refused).
  const send = (agent: Agent | false, method: string, path: string, body?: string) =>
    sendOn(agent, port, method, path, body);
  const legacyKeepAlive = (name: string): LoadClient => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return {
      name,
      async mint(round) {
        const uid = `${name}-${round}`;
        const body = JSON.stringify({ tokenType: "rtc", channel: "drain", role: "publisher", uid });
        const { status, text } = await send(agent, "POST", "/getToken", body);
        const json = JSON.parse(text) as { token?: string; error?: string };
        if (status !== 200) throw new Error(`HTTP ${status}: ${json.error}`);
        return { uid, token: String(json.token), channel: "drain" };
      },
      close: () => agent.destroy(),
    };
  };
  const connectClient = (name: string, transport: ReturnType<typeof createConnectTransport>) => {
    const client = createClient(TokenService, transport);
    return {
      name,
      async mint(round: number) {
        const uid = `${name.replaceAll(" ", "-")}-${round}`;
        const { token } = await client.getToken({
          request: { case: "rtc", value: { channel: "h2", uid, role: RtcRole.SUBSCRIBER } },
        });
        return { uid, token, channel: "h2" };
      },
    };
  };
  const grpcJs = grpcJsClient(port);
  return [
    legacyKeepAlive("http1-a"),
    legacyKeepAlive("http1-b"),
    legacyKeepAlive("http1-c"),
    {
      name: "http1 new connection per request",
      async mint(round) {
        const uid = `fresh-${round}`;
        const { status, text } = await send(false, "GET", `/rtm/${uid}`);
        const body = JSON.parse(text) as { rtmToken?: string; error?: string };
        if (status !== 200) throw new Error(`HTTP ${status}: ${body.error}`);
        return { uid, token: String(body.rtmToken) };
      },
    },
    connectClient("connect h2", createConnectTransport({ baseUrl, httpVersion: "2" })),
    connectClient("grpc connect-node", createGrpcTransport({ baseUrl })),
    {
      name: "grpc-js",
      async mint(round) {
        const uid = `grpcjs-${round}`;
        const outcome = await grpcJs.getToken({ request: { case: "chat", value: { uid } } });
        if (outcome.kind !== "ok") {
          throw Object.assign(new Error(`gRPC ${outcome.code}: ${outcome.message}`), {
            details: outcome.message,
          });
        }
        return { uid, token: outcome.response.token };
      },
      close: () => grpcJs.close(),
    },
  ];
}

describe("drain under load", () => {
  it("SIGTERM: every accepted request completes, new connections are refused, exit 0 within 10 s", async () => {
    const service = await spawnService();
    const clients = loadClients(service.port);
    let signalledAt = 0;
    let warm = 0;
    let allWarm: () => void = () => {};
    const warmedUp = new Promise<void>((resolve) => {
      allWarm = resolve;
    });
    const loads = clients.map((client) =>
      runLoad(
        client,
        () => signalledAt > 0,
        () => {
          warm += 1;
          if (warm === clients.length) allWarm();
        },
      ),
    );
    await warmedUp;

    signalledAt = Date.now();
    service.process.kill("SIGTERM");
    const results = await Promise.all(loads);
    const code = await service.exited;
    const exitedAfterMs = Date.now() - signalledAt;

    // A connection opened now is refused: the port is closed.
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(service.port, "127.0.0.1");
      socket.once("connect", () => resolve("connected"));
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(String(error.code)));
    });
    expect(refused).toBe("ECONNREFUSED");

    for (const result of results) {
      expect(result.unexpected, result.name).toEqual([]);
      expect(result.connectionRefused, `${result.name} ends on a refused connection`).toBe(true);
      expect(result.minted, result.name).toBeGreaterThanOrEqual(20);
    }
    expect(code).toBe(0);
    expect(exitedAfterMs).toBeLessThan(10_000);
    expect(service.output()).toContain("SIGTERM received");
    expect(service.output()).not.toContain('"level":"error"');
    // Requests in flight when the signal came were answered, not dropped.
    expect(results.reduce((sum, result) => sum + result.mintedAfterSignal, 0)).toBeGreaterThan(0);
  });
});
