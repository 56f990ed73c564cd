// Server CPU per request for the costliest requests a client without credentials can send
// within MAX_BODY_BYTES, against normal ones. Runs the built service (API keys on, so only the
// open health service and refusals are reachable without one), sends each kind of request
// REQUESTS times, and reads the server's CPU time (every thread, zlib's included) from
// /proc/<pid>/task/*/schedstat before and after.
// Usage: npm run bench:hostile   (BENCH_REQUESTS, BENCH_CONCURRENCY to change; BENCH_SERVER=
// path/to/main.js to measure another build of the service)
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { benchRequestBinary } from "./bench-request.js";

const root = resolve(import.meta.dirname, "..");
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
/** Requests in flight at once, as on a busy server (sequential requests mostly measure wake-ups). */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const MAX_BODY_BYTES = 20_480;
const API_KEY = "bench-caller-key-0123456789abcdef";

interface Kind {
  name: string;
  path: string;
  httpVersion: "1.1" | "2";
  headers: Record<string, string>;
  body: Uint8Array;
}

function envelope(flags: number, message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** A HealthCheckRequest of `size` bytes: one unknown bytes field of zeros. */
function paddedHealthCheck(size: number): Buffer {
  const padding = size - 4;
  const length = [(padding & 0x7f) | 0x80, ((padding >> 7) & 0x7f) | 0x80, padding >> 14];
  return Buffer.concat([Buffer.from([0x7a, ...length]), Buffer.alloc(padding)]);
}

/** A message of `size` bytes made of 2-byte unknown varint fields: the most fields per byte. */
function manyUnknownFields(size: number): Buffer {
  return Buffer.alloc(size - (size % 2), Buffer.from([0x78, 0x01]));
}

const rtc = benchRequestBinary;
const grpcWeb = { "content-type": "application/grpc-web+proto" };
const CHECK = "/grpc.health.v1.Health/Check";
const GET_TOKEN = "/agora.token.v1.TokenService/GetToken";
const bomb = envelope(1, brotliCompressSync(paddedHealthCheck(16_384)));
const gzipBomb = envelope(1, gzipSync(paddedHealthCheck(16_384)));

const kinds: Kind[] = [
  {
    name: "normal: GetToken, gRPC-Web (with an API key)",
    path: GET_TOKEN,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "x-api-key": API_KEY },
    body: envelope(0, rtc),
  },
  {
    name: "normal: Health/Check, gRPC-Web",
    path: CHECK,
    httpVersion: "1.1",
    headers: grpcWeb,
    body: envelope(0, new Uint8Array()),
  },
  {
    name: "normal: Health/Check, gRPC (h2c)",
    path: CHECK,
    httpVersion: "2",
    headers: { "content-type": "application/grpc", te: "trailers" },
    body: envelope(0, new Uint8Array()),
  },
  {
    name: `${Math.floor(16_384 / bomb.length)} brotli envelopes of 16 KiB each (refused)`,
    path: CHECK,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "grpc-encoding": "br" },
    body: Buffer.concat(Array.from({ length: Math.floor(16_384 / bomb.length) }, () => bomb)),
  },
  {
    name: "brotli with a 16 MiB window (refused: br is not accepted)",
    path: CHECK,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "grpc-encoding": "br" },
    body: envelope(
      1,
      brotliCompressSync(Buffer.alloc(16 << 20), {
        params: { [constants.BROTLI_PARAM_LGWIN]: 24 },
      }),
    ),
  },
  {
    name: `${Math.floor(16_384 / gzipBomb.length)} gzip envelopes of 16 KiB each (refused)`,
    path: CHECK,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "grpc-encoding": "gzip" },
    body: Buffer.concat(
      Array.from({ length: Math.floor(16_384 / gzipBomb.length) }, () => gzipBomb),
    ),
  },
  {
    name: "gzip inflating to MAX_BODY_BYTES, served",
    path: CHECK,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "grpc-encoding": "gzip" },
    body: envelope(1, gzipSync(paddedHealthCheck(MAX_BODY_BYTES))),
  },
  {
    name: "gzip of 16 MiB (refused past MAX_BODY_BYTES)",
    path: CHECK,
    httpVersion: "1.1",
    headers: { ...grpcWeb, "grpc-encoding": "gzip" },
    body: envelope(1, gzipSync(Buffer.alloc(16 << 20)).subarray(0, MAX_BODY_BYTES)),
  },
  {
    name: "gzip of MAX_BODY_BYTES of 2-byte unknown fields, served",
    path: CHECK,
    httpVersion: "2",
    headers: { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" },
    body: envelope(1, gzipSync(manyUnknownFields(MAX_BODY_BYTES))),
  },
  {
    name: "GetToken of MAX_BODY_BYTES of unknown fields (refused: no key)",
    path: GET_TOKEN,
    httpVersion: "1.1",
    headers: grpcWeb,
    body: envelope(0, manyUnknownFields(MAX_BODY_BYTES)),
  },
  {
    name: "Connect JSON of MAX_BODY_BYTES, one long string (refused: no key)",
    path: GET_TOKEN,
    httpVersion: "1.1",
    headers: { "content-type": "application/json" },
    body: Buffer.from(
      JSON.stringify({ chat: { uid: "\\u0041".repeat(3_400) } }).replaceAll("\\\\", "\\"),
    ),
  },
];

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** CPU time of every thread of the process so far, in ns. */
function cpuNs(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended
    }
  }
  return total;
}

function send(port: number, session: http2.ClientHttp2Session, kind: Kind): Promise<number> {
  if (kind.httpVersion === "2") {
    return new Promise((done, fail) => {
      const stream = session.request({ ":method": "POST", ":path": kind.path, ...kind.headers });
      stream.on("response", (headers) => done(Number(headers[":status"])));
      stream.on("error", fail);
      stream.resume();
      stream.end(kind.body);
    });
  }
  return new Promise((done, fail) => {
    const request = http.request(
      { host: "127.0.0.1", port, method: "POST", path: kind.path, headers: kind.headers, agent },
      (response) => {
        response.resume();
        response.on("end", () => done(response.statusCode ?? 0));
      },
    );
    request.on("error", fail);
    request.end(kind.body);
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** Sends `count` requests of `kind`, `CONCURRENCY` at a time. */
async function sendMany(
  port: number,
  session: http2.ClientHttp2Session,
  kind: Kind,
  count: number,
) {
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < count) {
        sent += 1;
        await send(port, session, kind);
      }
    }),
  );
}

console.error("building…");
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
const port = await freePort();
const child = spawn(process.execPath, [process.env.BENCH_SERVER ?? "dist/src/main.js"], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? "",
    HOST: "127.0.0.1",
    PORT: String(port),
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    APP_ID: "970CA35de60c44645bbae8a215061b33",
    APP_CERTIFICATE: "5CFd2fd1755d40ecb72977518be15d3b",
    API_KEYS: `bench:${API_KEY}`,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  },
  stdio: ["ignore", "ignore", "inherit"],
});
const pid = child.pid ?? 0;
for (let attempt = 0; ; attempt++) {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`);
    break;
  } catch {
    if (attempt > 100) throw new Error("the service did not start");
    await new Promise((done) => setTimeout(done, 100));
  }
}
const session = http2.connect(`http://127.0.0.1:${port}`);

const rows: Array<{ name: string; bytes: number; usPerRequest: number }> = [];
for (const kind of kinds) {
  await sendMany(port, session, kind, 100); // warm up
  const before = cpuNs(pid);
  await sendMany(port, session, kind, REQUESTS);
  const usPerRequest = (cpuNs(pid) - before) / 1_000 / REQUESTS;
  rows.push({ name: kind.name, bytes: kind.body.length, usPerRequest });
  console.error(`  ${kind.name}: ${usPerRequest.toFixed(0)} µs`);
}
session.close();
agent.destroy();
child.kill("SIGTERM");

const normal = rows[0]?.usPerRequest ?? Number.NaN;
console.log(`machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}`);
console.log(
  `server CPU per request (all threads), ${REQUESTS} requests each, MAX_BODY_BYTES=${MAX_BODY_BYTES}`,
);
console.log("");
console.log("| request | body bytes | server CPU µs | × normal GetToken |");
console.log("|---|---:|---:|---:|");
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.bytes} | ${row.usPerRequest.toFixed(0)} | ${(row.usPerRequest / normal).toFixed(1)} |`,
  );
}
