/**
 * Memory soak: runs the real service (src/main.ts) on loopback, mints tokens over the legacy
 * route, Connect (HTTP/1.1 and HTTP/2) and gRPC (@grpc/grpc-js) for SOAK_MINUTES (default 5),
 * and prints the service's RSS at start, every minute and at the end. Exits 1 if any call failed.
 *
 *   npm run soak                 # 5 minutes
 *   SOAK_MINUTES=30 npm run soak
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RtcRole, TokenService } from "../gen/agora/token/v1/token_service_pb.js";
import { grpcJsClient } from "../test/support/clients.js";
import { decodeToken } from "../test/support/decode-token.js";

const minutes = Number(process.env.SOAK_MINUTES ?? 5);
const LOOPS_PER_PROTOCOL = 4;
const WARM_UP_MS = 10_000;
const root = resolve(import.meta.dirname, "..");

/** The resident set size of a process, in MiB. */
function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    if (Number.isFinite(kib)) return kib / 1024;
  } catch {}
  return (
    Number(
      execFileSync("ps", ["-o", "rss=", "-p", String(pid)])
        .toString()
        .trim(),
    ) / 1024
  );
}

async function startService(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  const port = await new Promise<number>((resolvePort, reject) => {
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      const match = /"port":(\d+)/.exec(output);
      if (match) resolvePort(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`service exited with ${code}:\n${output}`)));
  });
  // Keep draining its log so that a full pipe never blocks it.
  child.stdout?.resume();
  return { child, port };
}

interface Counters {
  minted: number;
  failed: number;
  lastError?: string;
}

async function main(): Promise<void> {
  const { child, port } = await startService();
  const pid = child.pid ?? 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + minutes * 60_000;
  const counters: Record<string, Counters> = {};
  const connect1 = createClient(
    TokenService,
    createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  );
  const connect2 = createClient(
    TokenService,
    createConnectTransport({ baseUrl, httpVersion: "2" }),
  );
  const grpc = grpcJsClient(port);

  const protocols: Record<string, (round: number) => Promise<{ token: string; uid: string }>> = {
    legacy: async (round) => {
      const uid = `legacy${round}`;
      const response = await fetch(`${baseUrl}/getToken`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ tokenType: "rtc", channel: "soak", role: "publisher", uid }),
      });
      const body = (await response.json()) as { token?: string; error?: string };
      if (response.status !== 200) throw new Error(`HTTP ${response.status} ${body.error}`);
      return { token: String(body.token), uid };
    },
    "connect http/1.1": async (round) => {
      const uid = `c1-${round}`;
      const { token } = await connect1.getToken({
        request: { case: "rtc", value: { channel: "soak", uid, role: RtcRole.SUBSCRIBER } },
      });
      return { token, uid };
    },
    "connect http/2": async (round) => {
      const uid = `c2-${round}`;
      const { token } = await connect2.getToken({
        request: { case: "rtm", value: { uid, channel: "*" } },
      });
      return { token, uid };
    },
    "grpc (grpc-js)": async (round) => {
      const uid = `g${round}`;
      const outcome = await grpc.getToken({ request: { case: "chat", value: { uid } } });
      if (outcome.kind !== "ok") throw new Error(`gRPC ${outcome.code} ${outcome.message}`);
      return { token: outcome.response.token, uid };
    },
  };

  const loops = Object.entries(protocols).flatMap(([name, mint]) => {
    const counter: Counters = { minted: 0, failed: 0 };
    counters[name] = counter;
    return Array.from({ length: LOOPS_PER_PROTOCOL }, async (_, loop) => {
      for (let round = 0; Date.now() < deadline; round++) {
        try {
          const { token, uid } = await mint(round * LOOPS_PER_PROTOCOL + loop);
          // Spot-check that what comes back is still a right token.
          if (round % 100 === 0) {
            const [service] = decodeToken(token).services;
            if ((service?.uid ?? service?.userId) !== uid) throw new Error("wrong uid in token");
          }
          counter.minted += 1;
        } catch (error) {
          counter.failed += 1;
          counter.lastError = error instanceof Error ? error.message : String(error);
        }
      }
    });
  });

  const total = () => Object.values(counters).reduce((sum, c) => sum + c.minted, 0);
  const report = (label: string) => {
    const perProtocol = Object.entries(counters)
      .map(([name, c]) => `${name} ${c.minted}${c.failed ? ` (${c.failed} failed)` : ""}`)
      .join(", ");
    console.log(
      `${label.padEnd(14)} RSS ${rssMiB(pid).toFixed(1)} MiB; minted ${total()}: ${perProtocol}`,
    );
  };

  console.log(`soak: ${minutes} min, ${LOOPS_PER_PROTOCOL} loops per protocol, pid ${pid}`);
  report("listening");
  await new Promise((done) => setTimeout(done, WARM_UP_MS));
  report("warmed up");
  const ticker = setInterval(() => {
    report(`minute ${Math.round((Date.now() - (deadline - minutes * 60_000)) / 60_000)}`);
  }, 60_000);
  await Promise.all(loops);
  clearInterval(ticker);
  report("end");

  grpc.close();
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  const failed = Object.values(counters).reduce((sum, c) => sum + c.failed, 0);
  for (const [name, c] of Object.entries(counters)) {
    if (c.lastError) console.log(`${name}: last error: ${c.lastError}`);
  }
  console.log(`service exited with ${code}; ${failed} failed calls`);
  process.exit(failed === 0 && code === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
