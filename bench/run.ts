// Load benchmark: this service and, in the same rounds, a minimal node:http + agora-token
// baseline, driven with the same load on loopback. Each round starts every server fresh and runs
// every route; rounds are interleaved (the servers' order rotates) and the table shows medians:
// req/s, p99, the server's CPU seconds (utime + stime of every process and thread, from /proc),
// requests per CPU-second, the RSS high-water mark, and each goal beside the figure it applies to.
// Needs wrk and h2load (Debian: wrk, nghttp2-client).
// Usage: npm run bench  (BENCH_ROUNDS=5 BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=3
//        BENCH_CONNECTIONS=32 to change; BENCH_ROUNDS=1 BENCH_SECONDS=3 for a quick look)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { benchRequestBinary, benchRequestJson } from "./bench-request.js";

const root = resolve(import.meta.dirname, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const work = mkdtempSync(join(tmpdir(), "bench-"));
const RPC_PATH = "/agora.token.v1.TokenService/GetToken";
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** What one load run measured. */
interface Run {
  requestsPerSecond: number;
  p99Ms: number;
  errors: number;
  /** Server CPU time during the measured seconds (warm-up excluded), all processes. */
  cpuSeconds: number;
  /** The server's RSS high-water mark after this run (VmHWM, summed over its processes). */
  peakRssMiB: number;
}

/** A goal: this row's req/s at least `ratio` × another row's (the baseline's, by default). */
interface Goal {
  ratio: number;
  of?: string;
  /** The p99 must also be at or below the baseline's. */
  p99: boolean;
}

interface Route {
  /** Row label: server, route. */
  label: string;
  load: (port: number) => Load;
  goal?: Goal;
}

/** A load generator aimed at one route: a warm-up, then the measured run. */
interface Load {
  warmUp(): void;
  measure(): Omit<Run, "cpuSeconds" | "peakRssMiB">;
}

interface Scenario {
  name: string;
  command: string[];
  env: Record<string, string>;
  routes: Route[];
}

const legacyBody = Buffer.from(
  JSON.stringify({
    tokenType: "rtc",
    channel: "bench-channel",
    role: "publisher",
    uid: "user123",
    expire: 3600,
  }),
);
const connectJsonBody = benchRequestJson;
const binary = benchRequestBinary;
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
  for (let attempt = 0; attempt < 150; attempt++) {
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

/** A process and its descendants (cluster workers). */
function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return [
      pid,
      ...children
        .split(/\s+/)
        .filter(Boolean)
        .flatMap((child) => processTree(Number(child))),
    ];
  } catch {
    return [];
  }
}

/** utime + stime of every thread of the process tree, in seconds. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      // Fields after the command (which may hold spaces) start at field 3: utime is 14, stime 15.
      const stat = readFileSync(`/proc/${member}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process is gone
    }
  }
  return ticks / CLOCK_TICKS;
}

/** VmHWM (peak RSS) summed over the process tree, in MiB. */
function treePeakRssMiB(pid: number): number {
  let kib = 0;
  for (const member of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${member}/status`, "utf8");
      kib += Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    } catch {
      // the process is gone
    }
  }
  return kib / 1024;
}

function luaString(bytes: Uint8Array): string {
  return `"${[...bytes].map((byte) => `\\${byte}`).join("")}"`;
}

function wrk(url: string, contentType: string, body: Uint8Array): Load {
  const script = join(work, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "${contentType}"\nwrk.body = ${luaString(body)}\n`,
  );
  const run = (duration: number) =>
    execFileSync(
      "wrk",
      ["-t1", `-c${connections}`, `-d${duration}s`, "--latency", "-s", script, url],
      { encoding: "utf8" },
    );
  return {
    warmUp: () => {
      if (warmupSeconds > 0) run(warmupSeconds);
    },
    measure: () => {
      const output = run(seconds);
      const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
      const [, value, unit] = /99%\s+([\d.]+)(us|ms|s)/.exec(output) ?? [];
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
        output,
      );
      return {
        requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]),
        p99Ms: Number(value) * (unitMs[unit ?? ""] ?? Number.NaN),
        errors: non2xx + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
      };
    },
  };
}

function h2load(url: string, clients: number, streams: number): Load {
  const bodyFile = join(work, "grpc-body.bin");
  writeFileSync(bodyFile, framed);
  const run = (duration: number, log: string) =>
    execFileSync(
      "h2load",
      [
        `-c${clients}`,
        `-m${streams}`,
        `-D${duration}`,
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
  return {
    warmUp: () => {
      if (warmupSeconds > 0) run(warmupSeconds, "/dev/null");
    },
    measure: () => {
      const log = join(work, `h2load-${Math.random().toString(36).slice(2)}.log`);
      const output = run(seconds, log);
      // Log lines: start time (µs), status, duration (µs).
      const durations = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => Number(line.split("\t")[2]) / 1000)
        .sort((a, b) => a - b);
      const p99 = durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.99))];
      return {
        requestsPerSecond: Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output)?.[1]),
        p99Ms: p99 ?? Number.NaN,
        errors: Number(/requests: .*?(\d+) failed/.exec(output)?.[1] ?? 0),
      };
    },
  };
}

/** Warms the route up, then measures it with the server's CPU time around the measured part. */
function measure(pid: number, load: Load): Run {
  load.warmUp();
  const cpuBefore = treeCpuSeconds(pid);
  const result = load.measure();
  return {
    ...result,
    cpuSeconds: treeCpuSeconds(pid) - cpuBefore,
    peakRssMiB: treePeakRssMiB(pid),
  };
}

async function withServer<T>(scenario: Scenario, run: (port: number, pid: number) => T) {
  const port = await freePort();
  const [executable = process.execPath, ...args] = scenario.command;
  const child: ChildProcess = spawn(executable, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), ...scenario.env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitForPort(port);
    return run(port, child.pid ?? 0);
  } finally {
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
  }
}

const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
const legacy = (port: number) => wrk(url(port, "/getToken"), "application/json", legacyBody);
const node = process.execPath;
const serviceEnv = {
  NODE_ENV: "production",
  APP_ID: "970CA35de60c44645bbae8a215061b33",
  APP_CERTIFICATE: "5CFd2fd1755d40ecb72977518be15d3b",
};
const BASELINE = "bare baseline, POST /getToken";
const ONE_PROCESS = "this service, POST /getToken";

const scenarios: Scenario[] = [
  {
    name: "baseline (node:http + agora-token)",
    command: [node, "bench/baseline-server.mjs"],
    env: {},
    routes: [{ label: BASELINE, load: (port) => legacy(port) }],
  },
  {
    name: "this service, one process",
    command: [node, "dist/src/main.js"],
    env: serviceEnv,
    routes: [
      {
        label: ONE_PROCESS,
        load: (port) => legacy(port),
        goal: { ratio: 1, p99: true },
      },
      {
        label: "this service, Connect JSON",
        load: (port) => wrk(url(port, RPC_PATH), "application/json", connectJsonBody),
        goal: { ratio: 0.9, p99: true },
      },
      {
        label: "this service, Connect binary",
        load: (port) => wrk(url(port, RPC_PATH), "application/proto", binary),
      },
      {
        label: "this service, gRPC-Web",
        load: (port) => wrk(url(port, RPC_PATH), "application/grpc-web+proto", framed),
      },
      {
        label: "this service, gRPC h2c, 32 connections × 1 stream",
        load: (port) => h2load(url(port, RPC_PATH), connections, 1),
        goal: { ratio: 0.8, p99: true },
      },
      {
        label: "this service, gRPC h2c, 4 connections × 16 streams",
        load: (port) => h2load(url(port, RPC_PATH), 4, 16),
        goal: { ratio: 1.2, p99: true },
      },
    ],
  },
  {
    name: "this service, WORKERS=2",
    command: [node, "dist/src/main.js"],
    env: { ...serviceEnv, WORKERS: "2" },
    routes: [{ label: "this service WORKERS=2, POST /getToken", load: (port) => legacy(port) }],
  },
  {
    name: `this service, WORKERS=auto (${availableParallelism()} here)`,
    command: [node, "dist/src/main.js"],
    env: { ...serviceEnv, WORKERS: "auto" },
    routes: [
      {
        label: "this service WORKERS=auto, POST /getToken",
        load: (port) => legacy(port),
        goal: { ratio: 1.7, of: ONE_PROCESS, p99: false },
      },
    ],
  },
];

async function runScenario(scenario: Scenario): Promise<Map<string, Run>> {
  return withServer(scenario, (port, pid) => {
    const runs = new Map<string, Run>();
    for (const route of scenario.routes) {
      const run = measure(pid, route.load(port));
      runs.set(route.label, run);
      console.error(
        `  ${route.label}: ${run.requestsPerSecond.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.errors} errors`,
      );
    }
    return runs;
  });
}

requireTool("wrk", "wrk");
requireTool("h2load", "nghttp2-client");
console.error("building…");
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });

const runsOf = new Map<string, Run[]>();
for (let round = 0; round < rounds; round++) {
  // Rotate the order, so that no server always runs first (or last) in a round.
  const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length] as Scenario);
  for (const scenario of order) {
    console.error(`round ${round + 1}/${rounds}: ${scenario.name}`);
    for (const [label, run] of await runScenario(scenario)) {
      runsOf.set(label, [...(runsOf.get(label) ?? []), run]);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface Row {
  label: string;
  requestsPerSecond: number;
  p99Ms: number;
  cpuSeconds: number;
  requestsPerCpuSecond: number;
  peakRssMiB: number;
  errors: number;
}
const rows = new Map<string, Row>();
for (const [label, runs] of runsOf) {
  rows.set(label, {
    label,
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    cpuSeconds: median(runs.map((run) => run.cpuSeconds)),
    requestsPerCpuSecond: median(
      runs.map((run) => (run.requestsPerSecond * seconds) / run.cpuSeconds),
    ),
    peakRssMiB: median(runs.map((run) => run.peakRssMiB)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  });
}

const baseline = rows.get(BASELINE);
const verdict = (met: boolean, gap: string) => (met ? "met" : `not met (${gap})`);
function goalText(route: Route, row: Row): string {
  const goal = route.goal;
  if (!goal || !baseline) return "";
  const reference = rows.get(goal.of ?? BASELINE);
  if (!reference) return "";
  const ratio = row.requestsPerSecond / reference.requestsPerSecond;
  const against = goal.of ? "one process" : "baseline";
  const parts = [
    `≥ ${goal.ratio}× ${against}: ${verdict(ratio >= goal.ratio, `${((1 - ratio / goal.ratio) * 100).toFixed(0)} % short`)}`,
  ];
  if (goal.p99) {
    const p99Met = row.p99Ms <= baseline.p99Ms;
    parts.push(
      `p99 ≤ baseline's: ${verdict(p99Met, `${(row.p99Ms - baseline.p99Ms).toFixed(1)} ms over`)}`,
    );
  }
  return parts.join("; ");
}

const threads = `wrk -t1 -c${connections}; gRPC with h2load -c${connections} -m1 and -c4 -m16`;
console.log(
  `machine: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(
  `load: ${rounds} interleaved rounds, each server started fresh per round; ${warmupSeconds} s warm-up then ${seconds} s per route; loopback (${threads}); medians`,
);
console.log("");
console.log(
  "| server, route | req/s | × baseline | p99 ms | CPU s | req per CPU-second | peak RSS MiB | errors | goal |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---|");
for (const route of scenarios.flatMap((scenario) => scenario.routes)) {
  const row = rows.get(route.label);
  if (!row) continue;
  const ratio = baseline ? row.requestsPerSecond / baseline.requestsPerSecond : Number.NaN;
  console.log(
    `| ${row.label} | ${row.requestsPerSecond.toFixed(0)} | ${ratio.toFixed(2)} | ${row.p99Ms.toFixed(1)} | ${row.cpuSeconds.toFixed(1)} | ${row.requestsPerCpuSecond.toFixed(0)} | ${row.peakRssMiB.toFixed(0)} | ${row.errors} | ${goalText(route, row)} |`,
  );
}

// Memory: one process after every protocol has run (the last route's high-water mark), and
// WORKERS=2 against it.
const onePeak = rows.get("this service, gRPC h2c, 4 connections × 16 streams")?.peakRssMiB;
const twoPeak = rows.get("this service WORKERS=2, POST /getToken")?.peakRssMiB;
console.log("");
if (onePeak !== undefined) {
  console.log(
    `peak RSS of one process after every route: ${onePeak.toFixed(0)} MiB (goal ≤ 90 MiB: ${verdict(onePeak <= 90, `${(onePeak - 90).toFixed(0)} MiB over`)})`,
  );
  if (twoPeak !== undefined) {
    const ratio = twoPeak / onePeak;
    console.log(
      `peak RSS of WORKERS=2 (primary and workers): ${twoPeak.toFixed(0)} MiB, ${ratio.toFixed(2)}× one process (goal ≤ 2.2×: ${verdict(ratio <= 2.2, `${(ratio - 2.2).toFixed(2)}× over`)})`,
    );
  }
}
const one = rows.get(ONE_PROCESS);
for (const label of [
  "this service WORKERS=2, POST /getToken",
  "this service WORKERS=auto, POST /getToken",
]) {
  const multi = rows.get(label);
  if (one && multi) {
    console.log(
      `${label.replace("this service ", "").replace(", POST /getToken", "")} vs one process on POST /getToken: ${(multi.requestsPerSecond / one.requestsPerSecond).toFixed(2)}× req/s, ${(multi.requestsPerCpuSecond / one.requestsPerCpuSecond).toFixed(2)}× req per CPU-second`,
    );
  }
}
