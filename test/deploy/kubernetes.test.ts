import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/load-config.js";

const dir = resolve(import.meta.dirname, "../../deploy/kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field.
type Manifest = Record<string, any>;

const manifests: Manifest[] = readdirSync(dir)
  .filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((document) => {
      expect(document.errors, file).toEqual([]);
      return document.toJS() as Manifest;
    }),
  );

function only(kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
}

const deployment = only("Deployment");
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

describe("deploy/kubernetes", () => {
  it("lists every manifest in its kustomization", () => {
    const kustomization = parseAllDocuments(
      readFileSync(join(dir, "kustomization.yaml"), "utf8"),
    )[0]?.toJS();
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it("takes the credentials from a Secret, never from a literal value", () => {
    for (const name of ["APP_ID", "APP_CERTIFICATE"]) {
      const variable = container.env.find((candidate: Manifest) => candidate.name === name);
      expect(variable, name).not.toHaveProperty("value");
      expect(variable.valueFrom.secretKeyRef).toEqual({ name: "agora-token-service", key: name });
    }
    expect(JSON.stringify(manifests)).not.toMatch(/\b[0-9a-fA-F]{32}\b/);
  });

  it("exposes the port the service listens on, and the metrics port Prometheus is told about", () => {
    expect(portNumber("http")).toBe(config.port);
    expect(portNumber("metrics")).toBe(config.metricsPort);
    const annotations = deployment.spec.template.metadata.annotations;
    expect(Number(annotations["prometheus.io/port"])).toBe(config.metricsPort);
    expect(annotations["prometheus.io/path"]).toBe("/metrics");
  });

  it("probes readiness with gRPC health and liveness with /healthz on the service port", () => {
    const { readinessProbe, livenessProbe, startupProbe } = container;
    expect(readinessProbe.grpc.port).toBe(config.port);
    expect(readinessProbe.grpc.service ?? "").toBe("");
    for (const probe of [livenessProbe, startupProbe]) {
      expect(probe.httpGet.path).toBe("/healthz");
      expect(portNumber(probe.httpGet.port)).toBe(config.port);
    }
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

  it("sets resources and runs as a non-root user without privileges", () => {
    expect(container.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
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
    const service = only("Service");
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
});
