import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** True when the `redis-server` binary is installed (`.ci/run` installs it from Debian). */
export const hasRedisServer =
  spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface RedisServer {
  url: string;
  port: number;
  /** SIGSTOP: the process keeps its connections open but answers nothing, as a hung Redis. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  stop(): Promise<void>;
}

/** A throw-away `redis-server` on loopback that keeps nothing on disk. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
  const exited = once(child, "exit");
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    async stop() {
      if (child.exitCode === null) {
        // A paused process would not act on SIGTERM until continued.
        child.kill("SIGCONT");
        child.kill("SIGTERM");
      }
      await exited;
    },
  };
}
