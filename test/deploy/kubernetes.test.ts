import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { service as healthService } from "grpc-health-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { TokenService } from "../../gen/agora/token/v1/token_service_pb.js";
import { loadConfig } from "../../src/load-config.js";
import { postLegacy } from "../support/clients.js";
import { decodeToken, SAMPLE } from "../support/decode-token.js";
import { healthClient } from "../support/health-client.js";
import { type ManifestDocument, schemaProblems } from "../support/kubernetes-schemas.js";
import { spawnService } from "../support/spawn-service.js";

const root = resolve(import.meta.dirname, "../..");
const dir = join(root, "deploy/kubernetes");
const gatewayDir = join(dir, "gateway-api");
const work = mkdtempSync(join(tmpdir(), "kubernetes-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field.
type Manifest = Record<string, any>;

function parseYaml(text: string, source: string): ManifestDocument[] {
  return parseAllDocuments(text).map((document) => {
    expect(document.errors, source).toEqual([]);
    return { source, manifest: document.toJS() as Manifest };
  });
}

const yamlFiles = (directory: string) =>
  readdirSync(directory).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
const documentsOf = (directory: string): ManifestDocument[] =>
  yamlFiles(directory).flatMap((file) =>
    parseYaml(readFileSync(join(directory, file), "utf8"), relative(root, join(directory, file))),
  );

const base = documentsOf(dir).map((document) => document.manifest as Manifest);
const gatewayApi = documentsOf(gatewayDir).map((document) => document.manifest as Manifest);

function only(kind: string, manifests: Manifest[] = base): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
}

function kustomization(directory: string): Manifest {
  return parseAllDocuments(readFileSync(join(directory, "kustomization.yaml"), "utf8"))[0]?.toJS();
}

const deployment = only("Deployment");
const service = only("Service");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const labels: Record<string, string> = deployment.spec.template.metadata.labels;
const plainEnv: Record<string, string> = Object.fromEntries(
  container.env
    .filter((variable: Manifest) => "value" in variable)
    .map((variable: Manifest) => [variable.name, variable.value]),
);
/** The settings the container starts with, read as the service reads them. */
const config = loadConfig({
  ...plainEnv,
  // Only the keys file's existence matters here; its contents are checked by a real start below.
  API_KEYS_FILE: undefined,
  NODE_ENV: "production",
  APP_ID: "0".repeat(32),
  APP_CERTIFICATE: "1".repeat(32),
});
const portNumber = (port: number | string): number =>
  typeof port === "number"
    ? port
    : container.ports.find((candidate: Manifest) => candidate.name === port)?.containerPort;

function selects(selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** `256Mi`, `1Gi`, `300M` → MiB. */
function mebibytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    k: 1000 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return Number(match[1]) * (factor[match[2] ?? ""] ?? 1 / 2 ** 20);
}

/** The secrets (name → keys) that the README's `kubectl create secret generic` commands create. */
function secretsTheReadmeCreates(): Map<string, Set<string>> {
  const readme = readFileSync(join(root, "README.md"), "utf8").replace(/\\\n\s*/g, " ");
  const secrets = new Map<string, Set<string>>();
  for (const [command = "", name = ""] of readme.matchAll(
    /kubectl create secret generic (\S+)[^\n]*/g,
  )) {
    const keys = new Set<string>();
    for (const [, kind, argument = ""] of command.matchAll(/--from-(literal|file)=(\S+)/g)) {
      const [key = "", ...rest] = argument.split("=");
      keys.add(kind === "file" && rest.length === 0 ? posix.basename(key) : key);
    }
    secrets.set(name, keys);
  }
  return secrets;
}

/** The highest single-process peak RSS in the README's measurement tables, in MiB. */
function measuredPeakRssMiB(): number {
  const peaks: number[] = [];
  const lines = readFileSync(join(root, "README.md"), "utf8").split("\n");
  lines.forEach((line, index) => {
    if (!line.startsWith("|") || !line.includes("peak RSS MiB")) return;
    const header = line.split("|").map((cell) => cell.trim());
    const rss = header.indexOf("peak RSS MiB");
    const server = header.indexOf("server");
    for (const row of lines.slice(index + 2)) {
      if (!row.startsWith("|")) break;
      const cells = row.split("|").map((cell) => cell.trim());
      if (cells[server] === "service") peaks.push(Number(cells[rss]));
    }
  });
  expect(peaks.length, "peak RSS figures in the README").toBeGreaterThan(0);
  return Math.max(...peaks);
}

describe("deploy/kubernetes", () => {
  it("lists every manifest of each directory in its kustomization", () => {
    for (const directory of [dir, gatewayDir]) {
      expect([...kustomization(directory).resources].sort(), directory).toEqual(
        yamlFiles(directory).sort(),
      );
    }
  });

  it("is valid against the Kubernetes API and Gateway API schemas, unknown fields included", async () => {
    const documents = [...documentsOf(dir), ...documentsOf(gatewayDir)];
    expect(documents.map((document) => document.manifest.kind).sort()).toEqual([
      "Deployment",
      "GRPCRoute",
      "Gateway",
      "HTTPRoute",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
    ]);
    expect(await schemaProblems(documents)).toEqual([]);
  });

  it("has a schema check that catches a misspelt field, a wrong type and an unknown kind", async () => {
    const misspelt = structuredClone(deployment);
    const misspeltContainer = misspelt.spec.template.spec.containers[0];
    misspeltContainer.readinesProbe = misspeltContainer.readinessProbe;
    delete misspeltContainer.readinessProbe;
    const mistyped = structuredClone(deployment);
    mistyped.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    const route = structuredClone(only("GRPCRoute", gatewayApi));
    route.spec.rules[0].backendRefs[0].port = 70_000;
    const problems = await schemaProblems([
      { source: "misspelt.yaml", manifest: misspelt },
      { source: "mistyped.yaml", manifest: mistyped },
      { source: "route.yaml", manifest: route },
      { source: "unknown.yaml", manifest: { apiVersion: "example.com/v1", kind: "Widget" } },
    ]);
    expect(problems.join("\n")).toMatch(/misspelt\.yaml: .*'"readinesProbe"' does not exist/);
    expect(problems.join("\n")).toMatch(/mistyped\.yaml: .*containerPort must be integer/);
    expect(problems.join("\n")).toMatch(/route\.yaml: .*port must be <= 65535/);
    expect(problems.join("\n")).toMatch(/unknown\.yaml: no schema for example\.com\/v1 Widget/);
  });

  const kubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
  it.skipIf(!kubectl)(
    "renders with kustomize (kubectl) into valid manifests, with the image from images:",
    async () => {
      const rendered = (directory: string) =>
        parseYaml(
          execFileSync("kubectl", ["kustomize", directory], { encoding: "utf8" }),
          `kubectl kustomize ${relative(root, directory)}`,
        );
      const documents = [...rendered(dir), ...rendered(gatewayDir)];
      expect(documents).toHaveLength(7);
      expect(await schemaProblems(documents)).toEqual([]);
      const [image] = kustomization(dir).images;
      expect(image.name).toBe(container.image);
      const renderedDeployment = documents.find(({ manifest }) => manifest.kind === "Deployment")
        ?.manifest as Manifest;
      expect(renderedDeployment.spec.template.spec.containers[0].image).toBe(
        `${image.newName}:${image.newTag}`,
      );
    },
  );

  it("takes the credentials from a Secret, never from a literal value", () => {
    for (const name of ["APP_ID", "APP_CERTIFICATE"]) {
      const variable = container.env.find((candidate: Manifest) => candidate.name === name);
      expect(variable, name).not.toHaveProperty("value");
      expect(variable.valueFrom.secretKeyRef).toEqual({ name: "agora-token-service", key: name });
    }
    expect(JSON.stringify([...base, ...gatewayApi])).not.toMatch(/\b[0-9a-fA-F]{32}\b/);
  });

  it("requires callers to authenticate with API keys from a mounted Secret, which the README creates", async () => {
    // The keys file lives on a volume of the Secret, which is not optional: without the Secret the
    // pod does not start, so the Deployment never serves in open mode.
    const keysFile = String(plainEnv.API_KEYS_FILE);
    const mount = container.volumeMounts.find((candidate: Manifest) =>
      keysFile.startsWith(`${candidate.mountPath}/`),
    );
    expect(mount, "a volume mounted where API_KEYS_FILE points").toBeDefined();
    expect(mount.readOnly).toBe(true);
    const volume = pod.volumes.find((candidate: Manifest) => candidate.name === mount.name);
    expect(volume.secret.optional ?? false).toBe(false);
    const keyInSecret = posix.relative(mount.mountPath, keysFile);
    // The keys file is readable by the container's group only.
    expect(volume.secret.defaultMode & 0o007).toBe(0);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);

    expect(secretsTheReadmeCreates()).toEqual(
      new Map([
        ["agora-token-service", new Set(["APP_ID", "APP_CERTIFICATE"])],
        [volume.secret.secretName, new Set([keyInSecret])],
      ]),
    );

    // Start the service with the container's environment, the Secrets' values where Kubernetes
    // would put them, and port 0.
    const key = randomBytes(32).toString("hex");
    const file = join(work, keyInSecret);
    writeFileSync(file, `# created by kubectl create secret\nweb-backend:${key}\n`);
    const server = await spawnService({
      ...plainEnv,
      NODE_ENV: "production",
      APP_ID: SAMPLE.appId,
      APP_CERTIFICATE: SAMPLE.appCertificate,
      API_KEYS_FILE: file,
      PORT: "0",
      METRICS_PORT: "0",
      SHUTDOWN_DELAY_MS: "0",
    });
    try {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const request = { tokenType: "rtc", channel: "k8s", role: "publisher", uid: "7" };
      expect((await postLegacy(baseUrl, request)).status).toBe(401);
      const connect = await fetch(`${baseUrl}/agora.token.v1.TokenService/GetToken`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chat: {} }),
      });
      expect(connect.status).toBe(401);
      const allowed = await postLegacy(baseUrl, request, {
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      });
      expect(allowed.status).toBe(200);
      expect(decodeToken(String(allowed.json.token)).services).toEqual([
        expect.objectContaining({ channel: "k8s", uid: "7" }),
      ]);
      // The kubelet's probes carry no key, and still get their answers.
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      const health = healthClient(server.port);
      expect(await health.check()).toEqual({ kind: "ok", status: "SERVING" });
      health.close();
      expect(server.output()).not.toContain(key);
    } finally {
      server.process.kill("SIGTERM");
      await server.exited;
    }
  }, 60_000);

  it("exposes the port the service listens on, and the metrics port Prometheus is told about", () => {
    expect(portNumber("http")).toBe(config.port);
    expect(portNumber("metrics")).toBe(config.metricsPort);
    const annotations = deployment.spec.template.metadata.annotations;
    expect(Number(annotations["prometheus.io/port"])).toBe(config.metricsPort);
    expect(annotations["prometheus.io/path"]).toBe("/metrics");
  });

  it("probes readiness with gRPC health and liveness with /healthz, and one slow answer is no failure", () => {
    const { readinessProbe, livenessProbe, startupProbe } = container;
    expect(readinessProbe.grpc.port).toBe(config.port);
    expect(readinessProbe.grpc.service ?? "").toBe("");
    for (const probe of [livenessProbe, startupProbe]) {
      expect(probe.httpGet.path).toBe("/healthz");
      expect(portNumber(probe.httpGet.port)).toBe(config.port);
    }
    for (const probe of [readinessProbe, livenessProbe, startupProbe]) {
      // Kubernetes' defaults are a 1 s timeout and 3 failures.
      expect(probe.timeoutSeconds ?? 1).toBeGreaterThanOrEqual(2);
      expect(probe.failureThreshold ?? 3).toBeGreaterThanOrEqual(2);
    }
    // A restart costs more than a pod out of the endpoints for a while.
    expect(livenessProbe.failureThreshold ?? 3).toBeGreaterThanOrEqual(3);
    // Readiness must notice shutdown well within the delay, so that endpoints go first.
    expect(readinessProbe.periodSeconds * readinessProbe.failureThreshold * 1000).toBeLessThan(
      config.shutdownDelayMs,
    );
  });

  it("gives a shutdown delay of a few seconds and a grace period longer than delay plus drain", () => {
    expect(config.shutdownDelayMs).toBeGreaterThanOrEqual(2_000);
    expect(config.shutdownDelayMs).toBeLessThanOrEqual(15_000);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      config.shutdownDelayMs + config.shutdownTimeoutMs,
    );
  });

  it("requests the memory the README measures, and runs as a non-root user without privileges", () => {
    const { requests, limits } = container.resources;
    expect(requests.cpu).toEqual(expect.any(String));
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(measuredPeakRssMiB());
    expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(1.5 * mebibytes(requests.memory));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
  });

  it("has a Service on the one port with appProtocol h2c, so gRPC is balanced per request", () => {
    expect(selects(service.spec.selector)).toBe(true);
    expect(service.spec.ports).toHaveLength(1);
    const [port] = service.spec.ports;
    expect(portNumber(port.targetPort)).toBe(config.port);
    expect(port.appProtocol).toBe("kubernetes.io/h2c");
  });

  it("scales the Deployment on CPU and keeps replicas through voluntary disruptions", () => {
    const hpa = only("HorizontalPodAutoscaler");
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toMatchObject({
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics).toContainEqual(
      expect.objectContaining({
        type: "Resource",
        resource: expect.objectContaining({ name: "cpu" }),
      }),
    );
    const budget = only("PodDisruptionBudget");
    expect(selects(budget.spec.selector.matchLabels)).toBe(true);
    expect(budget.spec.maxUnavailable ?? budget.spec.minAvailable).toBeDefined();
    expect(budget.spec.maxUnavailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it("routes every gRPC service the port serves through a GRPCRoute, and the rest through an HTTPRoute", () => {
    const gateway = only("Gateway", gatewayApi);
    const routes = [only("GRPCRoute", gatewayApi), only("HTTPRoute", gatewayApi)];
    const hostnames = new Set<string>();
    for (const route of routes) {
      // Each route attaches to a listener that admits its kind, on the route's own host names.
      expect(route.spec.parentRefs).toHaveLength(1);
      const [parent] = route.spec.parentRefs;
      expect(parent.name).toBe(gateway.metadata.name);
      const listener = gateway.spec.listeners.find(
        (candidate: Manifest) => candidate.name === parent.sectionName,
      );
      expect(listener.allowedRoutes.kinds).toEqual([{ kind: route.kind }]);
      expect(route.spec.hostnames).toEqual([listener.hostname]);
      expect(listener.protocol).toBe("HTTPS");
      // Gateway API lets one host name carry gRPC or HTTP routes, not both.
      for (const hostname of route.spec.hostnames) {
        expect(hostnames.has(hostname), hostname).toBe(false);
        hostnames.add(hostname);
      }
      for (const rule of route.spec.rules) {
        expect(rule.backendRefs).toEqual([
          { name: service.metadata.name, port: service.spec.ports[0].port },
        ]);
      }
    }
    const [grpcRoute] = routes;
    const services = grpcRoute?.spec.rules.flatMap((rule: Manifest) =>
      rule.matches.map((match: Manifest) => match.method.service),
    );
    const healthServiceName = dirname(healthService.Check?.path ?? "").slice(1);
    expect(services.sort()).toEqual([TokenService.typeName, healthServiceName].sort());
  });
});
