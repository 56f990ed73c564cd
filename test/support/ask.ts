import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RtcRole, TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { type CallOutcome, type GetTokenInit, grpcJsClient } from "./clients.js";

/** The three ways callers reach GetToken: gRPC (grpc-js), Connect (connect-node), legacy JSON. */
export type Protocol = "grpc" | "connect" | "legacy";
export const PROTOCOLS: readonly Protocol[] = ["grpc", "connect", "legacy"];

/** What a caller saw, the same shape whichever protocol it used. */
export interface Answer {
  code: Code | "ok";
  message: string;
  token: string | undefined;
  /** The Retry-After the caller was sent, if any. */
  retryAfter: string | null;
}

const codeByStatus: Record<number, Code> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  429: Code.ResourceExhausted,
  503: Code.Unavailable,
};

export interface Asker {
  ask(protocol: Protocol, request: GetTokenInit, headers?: Record<string, string>): Promise<Answer>;
  close(): void;
}

/** Clients for one server on each {@link Protocol}. */
export function askerFor(server: { baseUrl: string; port: number }): Asker {
  const grpc = grpcJsClient(server.port);
  const connect = createClient(
    TokenService,
    createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  );
  const fromOutcome = (outcome: CallOutcome): Answer =>
    outcome.kind === "ok"
      ? { code: "ok", message: "", token: outcome.response.token, retryAfter: null }
      : {
          code: outcome.code,
          message: outcome.message,
          token: undefined,
          retryAfter: outcome.metadata.get("retry-after"),
        };
  return {
    async ask(protocol, request, headers = {}) {
      switch (protocol) {
        case "grpc":
          return fromOutcome(await grpc.getToken(request, headers));
        case "connect":
          try {
            const response = await connect.getToken(request, { headers });
            return { code: "ok", message: "", token: response.token, retryAfter: null };
          } catch (error) {
            const connectError = ConnectError.from(error);
            return {
              code: connectError.code,
              message: connectError.rawMessage,
              token: undefined,
              retryAfter: connectError.metadata.get("retry-after"),
            };
          }
        case "legacy": {
          const response = await fetch(`${server.baseUrl}/getToken`, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...headers },
            body: JSON.stringify(legacyBody(request)),
          });
          const json = (await response.json()) as { token?: string; error?: string };
          const code = response.ok ? "ok" : (codeByStatus[response.status] ?? Code.Unknown);
          return {
            code,
            message: json.error ?? "",
            token: json.token,
            retryAfter: response.headers.get("retry-after"),
          };
        }
      }
    },
    close: () => grpc.close(),
  };
}

/** The flat `POST /getToken` body asking for the same token as `request`. */
function legacyBody(request: GetTokenInit): Record<string, unknown> {
  const { request: which } = request;
  switch (which?.case) {
    case "rtc":
      return {
        tokenType: "rtc",
        channel: which.value.channel,
        uid: which.value.uid,
        role: which.value.role === RtcRole.SUBSCRIBER ? "subscriber" : "publisher",
      };
    case "rtm":
      return { tokenType: "rtm", uid: which.value.uid, channel: which.value.channel };
    case "chat":
      return which.value.uid ? { tokenType: "chat", uid: which.value.uid } : { tokenType: "chat" };
    default:
      return {};
  }
}

export const rtc = (uid: string, channel = "team-red"): GetTokenInit => ({
  request: { case: "rtc", value: { channel, uid, role: RtcRole.PUBLISHER } },
});
export const rtm = (uid: string, channel = ""): GetTokenInit => ({
  request: { case: "rtm", value: { uid, channel } },
});
export const chat = (uid: string): GetTokenInit => ({ request: { case: "chat", value: { uid } } });
