import type { Interceptor } from "@connectrpc/connect";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RtcRole } from "../../gen/agora/token/v1/token_service_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import {
  allProtocolClients,
  type GetTokenInit,
  type ProtocolClient,
  postLegacy,
} from "../support/clients.js";
import { healthClient } from "../support/health-client.js";

const started: AppServer[] = [];
const clients: ProtocolClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(started.splice(0).map((server) => server.close()));
});

async function start(...args: Parameters<typeof startApp>): Promise<AppServer> {
  const server = await startApp(...args);
  started.push(server);
  return server;
}

interface Scrape {
  /** Families with their HELP and TYPE, from an independent parser that rejects bad lines. */
  families: MetricFamily[];
  /** Every sample line (that parser merges labelled histograms, so samples are read here). */
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        if (key !== undefined && value !== undefined) labels[key] = value;
      }
      return { name: match[1] ?? "", labels, value: Number(match[3]) };
    });
  return { families: parsePrometheusTextFormat(text), samples };
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
}

/** A counter's or gauge's value, or a histogram's count, for exactly these labels; 0 if none. */
function delta(
  after: Scrape,
  before: Scrape,
  name: string,
  labels: Record<string, string>,
): number {
  return sampleValue(after, name, labels) - sampleValue(before, name, labels);
}

function sampleValue(scraped: Scrape, name: string, labels: Record<string, string>): number {
  const type = family(scraped.families, name).type;
  const sampleName = type === "HISTOGRAM" ? `${name}_count` : name;
  const sample = scraped.samples.find(
    (candidate) =>
      candidate.name === sampleName &&
      Object.keys(candidate.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, value]) => candidate.labels[key] === value),
  );
  return sample?.value ?? 0;
}

const rtc: GetTokenInit = {
  request: { case: "rtc", value: { channel: "metered", uid: "9", role: RtcRole.SUBSCRIBER } },
};

describe("GET /metrics", () => {
  it("counts requests by protocol, token kind and code on every protocol, with latencies", async () => {
    const server = await start();
    clients.push(...allProtocolClients(server.baseUrl, server.port));
    const before = await scrape(server.baseUrl);

    for (const client of clients) expect((await client.getToken(rtc)).kind).toBe("ok");
    const connect = clients.find((client) => client.name === "connect json http/1.1");
    await connect?.getToken({ request: { case: "rtc", value: { channel: "c", uid: "1" } } });
    expect((await postLegacy(server.baseUrl, { tokenType: "rtm", uid: "u" })).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/rte/room/publisher/uid/7/bob/`)).status).toBe(200);

    const expected: Array<[Record<string, string>, number]> = [
      [{ protocol: "grpc", token_kind: "rtc", code: "ok" }, 2],
      [{ protocol: "connect", token_kind: "rtc", code: "ok" }, 3],
      [{ protocol: "grpc-web", token_kind: "rtc", code: "ok" }, 2],
      [{ protocol: "connect", token_kind: "rtc", code: "invalid_argument" }, 1],
      [{ protocol: "legacy", token_kind: "rtm", code: "ok" }, 1],
      [{ protocol: "legacy", token_kind: "rtc+rtm", code: "ok" }, 1],
    ];
    const delta = (after: Scrape, name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    // Counted when the server finishes each response, which the client may see a moment earlier.
    await vi.waitFor(
      async () => {
        const after = await scrape(server.baseUrl);
        for (const [labels, count] of expected) {
          expect(delta(after, "agora_token_requests_total", labels), JSON.stringify(labels)).toBe(
            count,
          );
          expect(delta(after, "agora_token_request_duration_seconds", labels)).toBe(count);
        }
        // Successful mints only: 7 RTC over RPC + 1 from /rte; 1 RTM from /getToken + 1 from /rte.
        expect(delta(after, "agora_token_mint_duration_seconds", { token_kind: "rtc" })).toBe(8);
        expect(delta(after, "agora_token_mint_duration_seconds", { token_kind: "rtm" })).toBe(2);
      },
      { timeout: 5_000 },
    );
  });

  it("counts health checks, readiness probes, gRPC health, scrapes, /ping and preflights apart from token requests", async () => {
    const server = await start();
    const before = await scrape(server.baseUrl);
    const health = healthClient(server.port);
    try {
      expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
      expect(await health.check("")).toEqual({ kind: "ok", status: "SERVING" });
      const connectHealth = await fetch(`${server.baseUrl}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      expect(await connectHealth.json()).toEqual({ status: "SERVING" });
      expect((await fetch(`${server.baseUrl}/ping`)).status).toBe(200);
      expect((await fetch(`${server.baseUrl}/openapi.json`)).status).toBe(200);
      expect((await fetch(`${server.baseUrl}/no/such/page`)).status).toBe(404);
      const preflight = await fetch(`${server.baseUrl}/agora.token.v1.TokenService/GetToken`, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
      });
      expect(preflight.status).toBe(204);
      expect((await postLegacy(server.baseUrl, { tokenType: "chat", uid: "one" })).status).toBe(
        200,
      );
    } finally {
      health.close();
    }

    const total = (scraped: Scrape, name: string) =>
      scraped.samples
        .filter((sample) => sample.name === name)
        .reduce((sum, sample) => sum + sample.value, 0);
    await vi.waitFor(async () => {
      const after = await scrape(server.baseUrl);
      // Only the one token request: none of the others inflates "token requests".
      expect(
        total(after, "agora_token_requests_total") - total(before, "agora_token_requests_total"),
      ).toBe(1);
      expect(
        delta(after, before, "agora_token_requests_total", {
          protocol: "legacy",
          token_kind: "chat",
          code: "ok",
        }),
      ).toBe(1);
      const other = (labels: Record<string, string>) =>
        delta(after, before, "agora_token_other_requests_total", labels);
      expect(other({ protocol: "http", endpoint: "healthz", code: "ok" })).toBe(2);
      expect(other({ protocol: "http", endpoint: "readyz", code: "ok" })).toBe(1);
      expect(other({ protocol: "grpc", endpoint: "grpc_health", code: "ok" })).toBe(1);
      expect(other({ protocol: "connect", endpoint: "grpc_health", code: "ok" })).toBe(1);
      expect(other({ protocol: "legacy", endpoint: "ping", code: "ok" })).toBe(1);
      expect(other({ protocol: "http", endpoint: "openapi", code: "ok" })).toBe(1);
      expect(other({ protocol: "legacy", endpoint: "other", code: "not_found" })).toBe(1);
      expect(other({ protocol: "connect", endpoint: "cors_preflight", code: "ok" })).toBe(1);
      // The scrape that came before (this one is counted once it has been answered).
      expect(other({ protocol: "http", endpoint: "metrics", code: "ok" })).toBeGreaterThanOrEqual(
        1,
      );
    });
  });

  it("shows requests in flight while they are being served", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived = () => {};
    const holding = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const hold: Interceptor = (next) => async (req) => {
      arrived();
      await held;
      return next(req);
    };
    const server = await start({}, { interceptors: [hold] });
    clients.push(...allProtocolClients(server.baseUrl, server.port));
    const connect = clients.find((client) => client.name === "connect json http/1.1");
    const call = connect?.getToken(rtc);
    await holding;

    const during = await scrape(server.baseUrl);
    expect(sampleValue(during, "agora_token_requests_in_flight", { protocol: "connect" })).toBe(1);
    release();
    expect((await call)?.kind).toBe("ok");
    await vi.waitFor(async () => {
      const after = await scrape(server.baseUrl);
      expect(sampleValue(after, "agora_token_requests_in_flight", { protocol: "connect" })).toBe(0);
    });
  });

  it("follows Prometheus naming conventions and includes process metrics", async () => {
    const server = await start();
    await postLegacy(server.baseUrl, { tokenType: "rtm", uid: "u" });
    const { families } = await scrape(server.baseUrl);
    for (const { name, help, type, metrics } of families) {
      expect(name).toMatch(/^[a-z_:][a-z0-9_:]*$/);
      expect(help, name).not.toBe("");
      if (type === "COUNTER") expect(name).toMatch(/_total$/);
      if (name.startsWith("agora_token_") && type === "HISTOGRAM")
        expect(name).toMatch(/_seconds$/);
      for (const sample of metrics) {
        for (const label of Object.keys(sample.labels ?? {})) expect(label).toMatch(/^[a-z_]+$/);
      }
    }
    const names = families.map((candidate) => candidate.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "agora_token_requests_total",
        "agora_token_other_requests_total",
        "agora_token_request_duration_seconds",
        "agora_token_mint_duration_seconds",
        "agora_token_requests_in_flight",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_eventloop_lag_seconds",
      ]),
    );
    expect(family(families, "agora_token_request_duration_seconds").type).toBe("HISTOGRAM");
    expect(family(families, "agora_token_requests_in_flight").type).toBe("GAUGE");
  });

  it("keeps each server's counts apart when several run in one process", async () => {
    const first = await start();
    const second = await start();
    await postLegacy(first.baseUrl, { tokenType: "chat", uid: "one" });
    const labels = { protocol: "legacy", token_kind: "chat", code: "ok" };
    await vi.waitFor(async () => {
      expect(sampleValue(await scrape(first.baseUrl), "agora_token_requests_total", labels)).toBe(
        1,
      );
    });
    expect(sampleValue(await scrape(second.baseUrl), "agora_token_requests_total", labels)).toBe(0);
  });

  it("moves to METRICS_PORT when it is set, off the service port", async () => {
    const server = await start({ METRICS_PORT: "0" });
    if (server.metricsUrl === undefined) throw new Error("no metrics server");
    await postLegacy(server.baseUrl, { tokenType: "chat", uid: "one" });
    await vi.waitFor(async () => {
      const scraped = await scrape(server.metricsUrl ?? "");
      expect(
        sampleValue(scraped, "agora_token_requests_total", {
          protocol: "legacy",
          token_kind: "chat",
          code: "ok",
        }),
      ).toBe(1);
    });
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(404);
  });
});
