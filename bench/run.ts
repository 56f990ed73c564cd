// Load benchmark: our server and, in the same run, a minimal node:http + agora-token baseline,
// driven with the same load on loopback. Prints req/s, p50, p99 and peak RSS per route and the
// ratio to the baseline. Needs wrk and h2load (Debian: wrk, nghttp2-client).
// Usage: npm run bench  (BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_WORKERS=2 to change)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { GetTokenRequestSchema, RtcRole } from "../gen/agora/token/v1/token_service_pb.js";

const root = resolve(import.meta.dirname, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const workers = Number(process.env.BENCH_WORKERS ?? 2);
const work = mkdtempSync(join(tmpdir(), "bench-"));
const RPC_PATH = "/agora.token.v1.TokenService/GetToken";

interface Result {
  route: string;
  server: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMiB: number;
  errors: number;
}

const legacyBody = JSON.stringify({
  tokenType: "rtc",
  channel: "bench-channel",
  role: "publisher",
  uid: "user123",
  expire: 3600,
});
const rpcMessage = create(GetTokenRequestSchema, {
  request: {
    case: "rtc",
    value: {
      channel: "bench-channel",
      uid: "user123",
      role: RtcRole.PUBLISHER,
      expireSeconds: 3600,
    },
  },
});
const binary = toBinary(GetTokenRequestSchema, rpcMessage);
const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), binary]);
framed.writeUInt32BE(binary.length, 1);

function requireTool(tool: string, debianPackage: string): void {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    console.error(`${tool} is missing: apt-get install ${debianPackage}`);
    process.exit(2);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/getToken`, {
        method: "POST",
        body: legacyBody,
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`nothing answered on port ${port}`);
}

/** RSS of a process and all its children (cluster workers), in bytes. */
function treeRss(pid: number): number {
  let total = 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    for (const child of children.split(/\s+/).filter(Boolean)) total += treeRss(Number(child));
  } catch {
    // the process is gone
  }
  return total;
}

function sampleRss(pid: number): () => number {
  let peak = treeRss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(pid));
  }, 100);
  return () => {
    clearInterval(timer);
    return peak / 1024 / 1024;
  };
}

function luaString(bytes: Uint8Array): string {
  return `"${[...bytes].map((byte) => `\\${byte}`).join("")}"`;
}

function runWrk(url: string, contentType: string, body: Uint8Array) {
  const script = join(work, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "${contentType}"\nwrk.body = ${luaString(body)}\n`,
  );
  const output = execFileSync(
    "wrk",
    ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", script, url],
    { encoding: "utf8" },
  );
  const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
  const percentile = (p: string) => {
    const [, value, unit] = new RegExp(`${p}%\\s+([\\d.]+)(us|ms|s)`).exec(output) ?? [];
    return Number(value) * (unitMs[unit ?? ""] ?? Number.NaN);
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const errors =
    non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    errors,
  };
}

function runH2load(url: string) {
  const bodyFile = join(work, "grpc-body.bin");
  writeFileSync(bodyFile, framed);
  const log = join(work, `h2load-${Math.random().toString(36).slice(2)}.log`);
  const output = execFileSync(
    "h2load",
    [
      `-c${connections}`,
      "-m1",
      `-D${seconds}`,
      "--warm-up-time=1",
      "-d",
      bodyFile,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      `--log-file=${log}`,
      url,
    ],
    { encoding: "utf8" },
  );
  // Log lines: start time (µs), status, duration (µs).
  const durations = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => Number(line.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (p: number) =>
    durations[Math.min(durations.length - 1, Math.floor(durations.length * p))] ?? Number.NaN;
  const failed = Number(/requests: .*?(\d+) failed/.exec(output)?.[1] ?? 0);
  return {
    requestsPerSecond: Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output)?.[1]),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: failed,
  };
}

async function withServer<T>(
  name: string,
  command: string[],
  env: Record<string, string>,
  run: (port: number, pid: number) => T,
): Promise<T> {
  const port = await freePort();
  const [executable = process.execPath, ...args] = command;
  const child: ChildProcess = spawn(executable, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitForPort(port);
    return run(port, child.pid ?? 0);
  } finally {
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
    console.error(`  (${name} stopped)`);
  }
}

function measure(
  route: string,
  server: string,
  pid: number,
  drive: () => Omit<Result, "route" | "server" | "peakRssMiB">,
): Result {
  const peak = sampleRss(pid);
  const result = drive();
  return { route, server, ...result, peakRssMiB: peak() };
}

requireTool("wrk", "wrk");
requireTool("h2load", "nghttp2-client");
console.error("building…");
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });

const results: Result[] = [];
const node = process.execPath;
const ourEnv = {
  NODE_ENV: "production",
  APP_ID: "970CA35de60c44645bbae8a215061b33",
  APP_CERTIFICATE: "5CFd2fd1755d40ecb72977518be15d3b",
};

console.error("baseline: node:http + agora-token");
await withServer("baseline", [node, "bench/baseline-server.mjs"], {}, (port, pid) => {
  results.push(
    measure("legacy POST /getToken", "baseline", pid, () =>
      runWrk(`http://127.0.0.1:${port}/getToken`, "application/json", Buffer.from(legacyBody)),
    ),
  );
});

console.error("this service, one process");
await withServer("service", [node, "dist/src/main.js"], ourEnv, (port, pid) => {
  const base = `http://127.0.0.1:${port}`;
  results.push(
    measure("legacy POST /getToken", "service", pid, () =>
      runWrk(`${base}/getToken`, "application/json", Buffer.from(legacyBody)),
    ),
  );
  results.push(
    measure("Connect JSON", "service", pid, () =>
      runWrk(
        `${base}${RPC_PATH}`,
        "application/json",
        Buffer.from(
          JSON.stringify({
            rtc: {
              channel: "bench-channel",
              uid: "user123",
              role: "RTC_ROLE_PUBLISHER",
              expireSeconds: 3600,
            },
          }),
        ),
      ),
    ),
  );
  results.push(
    measure("Connect binary", "service", pid, () =>
      runWrk(`${base}${RPC_PATH}`, "application/proto", binary),
    ),
  );
  results.push(
    measure("gRPC-Web", "service", pid, () =>
      runWrk(`${base}${RPC_PATH}`, "application/grpc-web+proto", framed),
    ),
  );
  results.push(measure("gRPC (h2c)", "service", pid, () => runH2load(`${base}${RPC_PATH}`)));
});

if (workers > 1) {
  console.error(`this service, WORKERS=${workers}`);
  await withServer(
    "service workers",
    [node, "dist/src/main.js"],
    { ...ourEnv, WORKERS: String(workers) },
    (port, pid) => {
      results.push(
        measure("legacy POST /getToken", `service WORKERS=${workers}`, pid, () =>
          runWrk(`http://127.0.0.1:${port}/getToken`, "application/json", Buffer.from(legacyBody)),
        ),
      );
    },
  );
}

const baseline =
  results.find((result) => result.server === "baseline")?.requestsPerSecond ?? Number.NaN;
const single =
  results.find((result) => result.server === "service" && result.route.startsWith("legacy"))
    ?.requestsPerSecond ?? Number.NaN;
console.log(
  `machine: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(
  `load: ${connections} connections, ${seconds} s per route, loopback (wrk -t1; h2load -m1 for gRPC)\n`,
);
console.log("| route | server | req/s | p50 ms | p99 ms | peak RSS MiB | errors | × baseline |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const ratio = r.requestsPerSecond / baseline;
  console.log(
    `| ${r.route} | ${r.server} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.errors} | ${ratio.toFixed(2)} |`,
  );
}
const multi = results.find((result) => result.server.includes("WORKERS"));
if (multi)
  console.log(
    `\nWORKERS=${workers} vs one process on the legacy route: ${(multi.requestsPerSecond / single).toFixed(2)}×`,
  );
