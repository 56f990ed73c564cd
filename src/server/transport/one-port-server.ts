import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { discardUnreadRequestOnEnd } from "../http/discard-unread-request.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import { enforceHttp2Timeouts } from "./http2-timeouts.js";
import { http1ServerOptions, http2ServerOptions } from "./node-server-options.js";
import { createOnePortListener } from "./one-port-listener.js";

/** The limits of the standalone listener: connections, headers, timeouts and HTTP/2 sessions. */
export interface ListenerLimits {
  /** Time for a client to send the request headers (and to show its protocol), in ms. */
  headersTimeoutMs: number;
  /** Time for a client to send a whole HTTP/1.1 request, in ms. */
  requestTimeoutMs: number;
  /** How long an idle HTTP/1.1 keep-alive connection stays open, in ms. */
  keepAliveTimeoutMs: number;
  /** Largest request header block (HTTP/1.1 → 431; HTTP/2 → stream reset), in bytes. */
  maxHeaderBytes: number;
  /** Most TCP connections open at once; further ones are closed as soon as they are accepted. */
  maxConnections: number;
  /** Most streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: number;
  /** Memory one HTTP/2 session may use before new streams are refused, in MiB. */
  http2MaxSessionMemoryMb: number;
  /** Most entries in one HTTP/2 SETTINGS frame. */
  http2MaxSettings: number;
  /** Most unanswered HTTP/2 PINGs before the session is closed. */
  http2MaxOutstandingPings: number;
  /** Invalid HTTP/2 frames tolerated before the session is closed. */
  http2MaxInvalidFrames: number;
  /** Refused HTTP/2 streams tolerated before the session is closed (reset floods). */
  http2MaxRejectedStreams: number;
  /** How long an HTTP/2 connection without open streams stays open, in ms. */
  http2IdleTimeoutMs: number;
}

export interface OnePortServerOptions {
  /** Answers every request, on HTTP/1.1 and HTTP/2 alike. */
  handle: (req: NodeRequest, res: NodeResponse) => void;
  limits: ListenerLimits;
  /** Longest a shutdown waits for requests in flight before closing their connections, in ms. */
  shutdownTimeoutMs: number;
  /** Receives a failed accept (EMFILE) once listening. */
  onInternalError: (error: unknown) => void;
}

export interface OnePortServer {
  /** Starts listening; port 0 picks a free port. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, lets requests in flight finish (up to the shutdown timeout),
   * closes idle connections, and resolves once every connection is closed.
   */
  close(): Promise<void>;
}

/**
 * HTTP/1.1 and cleartext HTTP/2 on one port, with the listener's limits and timeouts and a
 * drain on close. It knows nothing of what it serves: `handle` answers every request.
 */
export function createOnePortServer({
  handle,
  limits,
  shutdownTimeoutMs,
  onInternalError,
}: OnePortServerOptions): OnePortServer {
  let draining = false;
  /** Set when the drain's grace period ends: from then on, idle connections are closed at once. */
  let graceOver = false;
  const http1Server = http.createServer(http1ServerOptions(limits), handle);
  const http2Server = http2.createServer(http2ServerOptions(limits), (req, res) => {
    discardUnreadRequestOnEnd(req, res);
    handle(req, res);
  });
  enforceHttp2Timeouts(http2Server, {
    headersTimeoutMs: limits.headersTimeoutMs,
    idleTimeoutMs: limits.http2IdleTimeoutMs,
    requestTimeoutMs: limits.requestTimeoutMs,
  });
  const listener = createOnePortListener({
    http1: http1Server,
    http2: http2Server,
    sniffTimeoutMs: limits.headersTimeoutMs,
    maxConnections: limits.maxConnections,
  });

  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  listener.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (draining) session.close();
  });
  // HTTP/1.1 responses in flight: during the drain they say "Connection: close", and the
  // keep-alive connection each leaves idle is closed.
  const http1Responses = new Set<http.ServerResponse>();
  http1Server.on("request", (_req, res: http.ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    http1Responses.add(res);
    res.once("close", () => http1Responses.delete(res));
    res.once("finish", () => {
      if (graceOver) setImmediate(() => http1Server.closeIdleConnections());
    });
  });

  let closing: Promise<void> | undefined;
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const { server } = listener;
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          // After listening, an error is a failed accept (EMFILE): report it, keep serving.
          server.on("error", onInternalError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= drain();
      return closing;
    },
  };

  /**
   * Closing an idle HTTP/1.1 keep-alive connection races with the request a client may be
   * sending on it right then, which is lost (HTTP/1.1 has no GOAWAY). So for a grace period,
   * HTTP/1.1 connections already open still take requests, each answered with
   * "Connection: close"; only then are the idle ones closed. HTTP/2 sessions get their GOAWAY at
   * once: a stream in flight then is refused (REFUSED_STREAM, safe to retry), and Node offers no
   * shutdown notice (a first GOAWAY that still accepts streams) to avoid that.
   */
  async function drain(): Promise<void> {
    draining = true;
    const stopped = closeListener(listener.server);
    for (const res of http1Responses) if (!res.headersSent) res.shouldKeepAlive = false;
    for (const session of sessions) session.close();
    const deadline = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, shutdownTimeoutMs);
    await graceOrAllClosed(sockets, Math.min(DRAIN_GRACE_MS, shutdownTimeoutMs));
    graceOver = true;
    listener.closeUnsniffed();
    http1Server.closeIdleConnections();
    await Promise.all([stopped, allClosed(sockets)]);
    clearTimeout(deadline);
  }
}

/** How long open HTTP/1.1 connections may still send requests once a shutdown began, in ms. */
const DRAIN_GRACE_MS = 500;

function graceOrAllClosed(sockets: Set<Socket>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    allClosed(sockets).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function closeListener(listener: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!listener.listening) resolve();
    else listener.close(() => resolve());
  });
}

async function allClosed(sockets: Set<Socket>): Promise<void> {
  while (sockets.size > 0) {
    const [socket] = sockets;
    if (socket) await new Promise((resolve) => socket.once("close", resolve));
  }
}
