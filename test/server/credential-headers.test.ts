import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  RtcRole,
} from "../../gen/agora/token/v1/token_service_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { decodeToken } from "../support/decode-token.js";
import { envelope, GET_TOKEN_PATH, type RawProtocol, readOutcome } from "../support/raw-rpc.js";

const KEY_WEB = "web-key-9f8e7d6c5b4a3928";
const KEY_JOBS = "jobs-key-0a1b2c3d4e5f6071";

/** `nghttp` (Debian's nghttp2-client) sends header lists that Node's HTTP/2 client refuses. */
const hasNghttp = spawnSync("nghttp", ["--version"], { stdio: "ignore" }).status === 0;
if (!hasNghttp) console.warn("No nghttp (apt-get install nghttp2-client): skipping HTTP/2 cases.");

const rtcRequest = create(GetTokenRequestSchema, {
  request: { case: "rtc", value: { channel: "room", uid: "42", role: RtcRole.PUBLISHER } },
});
const rtcJson = JSON.stringify({ rtc: { channel: "room", uid: "42", role: "RTC_ROLE_PUBLISHER" } });
const rtcBinary = toBinary(GetTokenRequestSchema, rtcRequest);

/** One HTTP/1.1 request with `headers` exactly as listed (repeats included). */
function sendHttp1(
  port: number,
  method: string,
  path: string,
  headers: readonly string[],
  body: Uint8Array | string = "",
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: ["Host", `127.0.0.1:${port}`, "Content-Length", String(body.length), ...headers],
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** What each HTTP/1.1 route answers: a token, or the refusal's code and message. */
type Outcome = { token: string } | { code: string; message: string };

interface Http1Route {
  name: string;
  send(port: number, headers: readonly string[]): Promise<Outcome>;
}

const legacyOutcome = (status: number, body: Buffer, key: string): Outcome => {
  const json = JSON.parse(body.toString("utf8")) as Record<string, string>;
  if (status === 200) return { token: json[key] ?? "" };
  return { code: status === 401 ? "unauthenticated" : `HTTP ${status}`, message: json.error ?? "" };
};

const rpcOverHttp1 = (protocol: RawProtocol, contentType: string, body: Uint8Array | string) => ({
  name: `${protocol} over HTTP/1.1`,
  async send(port: number, headers: readonly string[]): Promise<Outcome> {
    const answer = await sendHttp1(
      port,
      "POST",
      GET_TOKEN_PATH,
      ["Content-Type", contentType, ...headers],
      body,
    );
    const outcome = readOutcome(protocol, { ...answer, trailers: {} });
    if (outcome.kind === "error") return { code: outcome.code, message: outcome.message };
    const message = outcome.message;
    if (message instanceof Uint8Array)
      return { token: fromBinary(GetTokenResponseSchema, message).token };
    return { token: (message as { token: string }).token };
  },
});

const http1Routes: Http1Route[] = [
  {
    name: "legacy POST /getToken",
    async send(port, headers) {
      const body = JSON.stringify({
        tokenType: "rtc",
        channel: "room",
        uid: "42",
        role: "publisher",
      });
      const response = await sendHttp1(
        port,
        "POST",
        "/getToken",
        ["Content-Type", "application/json", ...headers],
        body,
      );
      return legacyOutcome(response.status, response.body, "token");
    },
  },
  {
    name: "legacy GET /rtc/…",
    async send(port, headers) {
      const response = await sendHttp1(port, "GET", "/rtc/room/publisher/uid/42/", headers);
      return legacyOutcome(response.status, response.body, "rtcToken");
    },
  },
  rpcOverHttp1("connect json", "application/json", rtcJson),
  rpcOverHttp1("connect binary", "application/proto", rtcBinary),
  rpcOverHttp1("grpc-web", "application/grpc-web+proto", envelope(0, rtcBinary)),
];

/** The same GetToken call over h2c with `nghttp`, headers exactly as listed. */
async function sendHttp2(
  port: number,
  protocol: "grpc" | "connect json",
  headers: readonly [string, string][],
  dir: string,
): Promise<Outcome> {
  const bodyFile = join(dir, `${protocol.replace(" ", "-")}.bin`);
  writeFileSync(bodyFile, protocol === "grpc" ? envelope(0, rtcBinary) : rtcJson);
  const args = [
    "-v",
    "-n",
    "-d",
    bodyFile,
    "-H",
    `content-type: ${protocol === "grpc" ? "application/grpc" : "application/json"}`,
    "-H",
    "te: trailers",
    ...headers.flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    `http://127.0.0.1:${port}${GET_TOKEN_PATH}`,
  ];
  const child = spawn("nghttp", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`nghttp exited with ${code}:\n${output}`);
  const received = (name: string) =>
    new RegExp(`recv \\(stream_id=\\d+\\) ${name}: (.*)$`, "m").exec(output)?.[1];
  if (protocol === "grpc") {
    const status = received("grpc-status");
    if (status === "0") return { token: "(not read)" };
    return {
      code: status === "16" ? "unauthenticated" : `grpc-status ${status}`,
      message: decodeURIComponent(received("grpc-message") ?? ""),
    };
  }
  const status = received(":status");
  return status === "200" ? { token: "(not read)" } : { code: `HTTP ${status}`, message: "" };
}

let server: AppServer;
let dir: string;
beforeAll(async () => {
  server = await startApp({ API_KEYS: `web:${KEY_WEB},jobs:${KEY_JOBS}` });
  dir = mkdtempSync(join(tmpdir(), "credential-headers-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const twoAuthorizations = [
  "Authorization",
  `Bearer ${KEY_WEB}`,
  "Authorization",
  `Bearer ${KEY_JOBS}`,
];
const twoCallers = ["X-API-Key", KEY_WEB, "Authorization", `Bearer ${KEY_JOBS}`];
const oneCallerTwice = ["X-API-Key", KEY_WEB, "Authorization", `Bearer ${KEY_WEB}`];
const twoApiKeys = ["X-API-Key", KEY_WEB, "x-api-key", KEY_JOBS];

describe("repeated or conflicting credential headers (API_KEYS set)", () => {
  describe.each(http1Routes)("$name", (route) => {
    it("refuses two Authorization headers, or X-API-Key and Authorization naming different callers", async () => {
      expect(await route.send(server.port, twoAuthorizations)).toEqual({
        code: "unauthenticated",
        message: "the request has more than one Authorization header. Send one",
      });
      expect(await route.send(server.port, twoApiKeys)).toEqual({
        code: "unauthenticated",
        message: "the request has more than one X-API-Key header. Send one",
      });
      expect(await route.send(server.port, twoCallers)).toEqual({
        code: "unauthenticated",
        message: "X-API-Key and Authorization name different callers. Send one of them",
      });
    });

    it("serves a request whose two headers carry the same key, and each header alone", async () => {
      for (const headers of [oneCallerTwice, ["Authorization", `Bearer ${KEY_JOBS}`]]) {
        const outcome = await route.send(server.port, headers);
        expect(outcome).toHaveProperty("token");
        const { token } = outcome as { token: string };
        expect(decodeToken(token).services).toMatchObject([
          { type: 1, channel: "room", uid: "42" },
        ]);
      }
    });
  });

  it("answers 401 with WWW-Authenticate on the legacy route", async () => {
    const response = await sendHttp1(server.port, "GET", "/chat/app/", twoAuthorizations);
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="agora-token-service"');
  });

  it("refuses them on POST /inspectToken too", async () => {
    const response = await sendHttp1(
      server.port,
      "POST",
      "/inspectToken",
      ["Content-Type", "application/json", ...twoCallers],
      JSON.stringify({ token: "007x" }),
    );
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body.toString())).toEqual({
      error: "X-API-Key and Authorization name different callers. Send one of them",
    });
  });

  describe.skipIf(!hasNghttp).each(["grpc", "connect json"] as const)("%s over h2c", (protocol) => {
    const pairs = (flat: readonly string[]) =>
      flat.flatMap((item, i) => (i % 2 === 0 ? [[item.toLowerCase(), flat[i + 1] ?? ""]] : [])) as [
        string,
        string,
      ][];

    it("refuses two Authorization headers and conflicting ones, serves matching ones", async () => {
      const refused = await sendHttp2(server.port, protocol, pairs(twoAuthorizations), dir);
      const conflicting = await sendHttp2(server.port, protocol, pairs(twoCallers), dir);
      const matching = await sendHttp2(server.port, protocol, pairs(oneCallerTwice), dir);
      if (protocol === "grpc") {
        expect(refused).toEqual({
          code: "unauthenticated",
          message: "the request has more than one Authorization header. Send one",
        });
        expect(conflicting).toEqual({
          code: "unauthenticated",
          message: "X-API-Key and Authorization name different callers. Send one of them",
        });
      } else {
        expect([refused, conflicting]).toEqual([
          { code: "HTTP 401", message: "" },
          { code: "HTTP 401", message: "" },
        ]);
      }
      expect(matching).toEqual({ token: "(not read)" });
    });
  });
});
