import { METRICS, METRICS_NAMESPACE, type MetricName } from "../../shared/metrics/catalog.ts";

/**
 * The shop's metrics on this machine, as CloudWatch would hold them on AWS: the functions write
 * Embedded Metric Format lines to standard output (shared/metrics/emit.ts), the stack reads them
 * here from serverless-offline's output, and /metrics serves them in Prometheus' text format:
 * counters summed since the stack started, gauges at their last sample.
 */
interface Series {
  labels: Record<string, string>;
  value: number;
}

interface EmfDocument {
  _aws?: {
    CloudWatchMetrics?: Array<{ Namespace?: string; Dimensions?: string[][]; Metrics?: Array<{ Name?: string }> }>;
  };
  [field: string]: unknown;
}

/** CloudWatch's names as Prometheus spells them: OrdersAccepted -> orders_accepted. */
const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
const isMetric = (name: string): name is MetricName => Object.hasOwn(METRICS, name);

function prometheusName(name: MetricName): string {
  const { kind, unit } = METRICS[name];
  return `gozon_${snake(name)}${unit === "Seconds" ? "_seconds" : ""}${kind === "counter" ? "_total" : ""}`;
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class MetricsRegistry {
  private readonly series = new Map<MetricName, Map<string, Series>>();

  /** Adds (a counter) or sets (a gauge) one value. */
  record(name: MetricName, labels: Record<string, string>, value: number): void {
    const key = JSON.stringify(Object.entries(labels).sort());
    const byLabels = this.series.get(name) ?? new Map<string, Series>();
    this.series.set(name, byLabels);
    const known = byLabels.get(key);
    if (known && METRICS[name].kind === "counter") known.value += value;
    else byLabels.set(key, { labels, value });
  }

  /** Takes in a line of a function's output if it is one of the shop's EMF documents; false if not. */
  readLine(line: string): boolean {
    if (!line.startsWith('{"_aws"')) return false;
    let document: EmfDocument;
    try {
      document = JSON.parse(line) as EmfDocument;
    } catch {
      return false;
    }
    for (const directive of document._aws?.CloudWatchMetrics ?? []) {
      if (directive.Namespace !== METRICS_NAMESPACE) continue;
      // The labels are the dimensions the line names (the service aside: there is one).
      const dimensions = [...new Set((directive.Dimensions ?? []).flat())].filter((d) => d !== "service");
      const labels = Object.fromEntries(dimensions.map((d) => [snake(d), String(document[d] ?? "")]));
      for (const { Name: name } of directive.Metrics ?? []) {
        const value = name === undefined ? undefined : document[name];
        if (name !== undefined && isMetric(name) && typeof value === "number") this.record(name, labels, value);
      }
    }
    return true;
  }

  /** Every series, in Prometheus' text exposition format (version 0.0.4). */
  prometheusText(): string {
    const lines: string[] = [];
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const exposed = prometheusName(name);
      lines.push(`# HELP ${exposed} ${METRICS[name].help}`, `# TYPE ${exposed} ${METRICS[name].kind}`);
      for (const { labels, value } of this.series.get(name)?.values() ?? []) {
        const pairs = Object.entries(labels).map(([label, v]) => `${label}="${escapeLabel(v)}"`);
        lines.push(`${exposed}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}
