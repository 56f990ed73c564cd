declare module "parse-prometheus-text-format" {
  /** One sample, in prom2json's shape: numbers stay strings, as written. */
  export interface Sample {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface MetricFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: Sample[];
  }
  /** Parses Prometheus' text exposition format; throws on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
