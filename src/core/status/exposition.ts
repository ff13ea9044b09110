// Prometheus text exposition (format 0.0.4): families, samples, escaped labels, and in-process labelled counters and histograms.

/** A label value escaped as the exposition format asks: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export type Labels = Record<string, string>;

const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

/** A number as the format writes it (+Inf, NaN). */
const num = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : String(v));

export class Exposition {
  readonly lines: string[] = [];
  family(name: string, help: string, type: "gauge" | "counter" | "histogram"): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, l: Labels, value: number): void {
    this.lines.push(`${name}${labelText(l)} ${num(value)}`);
  }
  /** A histogram from raw observations. */
  histogram(name: string, l: Labels, buckets: readonly number[], seconds: number[]): void {
    const counts = buckets.map((le) => seconds.filter((s) => s <= le).length);
    this.bucketed(
      name,
      l,
      buckets,
      counts,
      seconds.length,
      Math.round(seconds.reduce((a, b) => a + b, 0) * 1000) / 1000,
    );
  }
  /** A histogram from cumulative bucket counts. */
  bucketed(
    name: string,
    l: Labels,
    buckets: readonly number[],
    cumulative: number[],
    count: number,
    sum: number,
  ) {
    buckets.forEach((le, i) => {
      this.sample(`${name}_bucket`, { ...l, le: String(le) }, cumulative[i] ?? 0);
    });
    this.sample(`${name}_bucket`, { ...l, le: "+Inf" }, count);
    this.sample(`${name}_sum`, l, Math.round(sum * 1e6) / 1e6);
    this.sample(`${name}_count`, l, count);
  }
  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** Label sets in a stable key (the order of `names`). */
const keyOf = (names: readonly string[], l: Labels) => JSON.stringify(names.map((n) => l[n] ?? ""));

/** A counter by label set; declared label sets exist at 0 before anything is counted. */
export class LabeledCounter {
  readonly #values = new Map<string, { labels: Labels; n: number }>();
  constructor(readonly labelNames: readonly string[]) {}
  declare(l: Labels): void {
    const k = keyOf(this.labelNames, l);
    if (!this.#values.has(k)) this.#values.set(k, { labels: l, n: 0 });
  }
  inc(l: Labels, by = 1): void {
    this.declare(l);
    (this.#values.get(keyOf(this.labelNames, l)) as { n: number }).n += by;
  }
  render(e: Exposition, name: string): void {
    for (const { labels, n } of this.#values.values()) e.sample(name, labels, n);
  }
}

/** A histogram by label set (cumulative buckets kept as they come); declared label sets exist at 0. */
export class LabeledHistogram {
  readonly #values = new Map<string, { labels: Labels; cumulative: number[]; count: number; sum: number }>();
  constructor(
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}
  declare(l: Labels): void {
    const k = keyOf(this.labelNames, l);
    if (!this.#values.has(k))
      this.#values.set(k, { labels: l, cumulative: this.buckets.map(() => 0), count: 0, sum: 0 });
  }
  observe(l: Labels, value: number): void {
    this.declare(l);
    const h = this.#values.get(keyOf(this.labelNames, l)) as {
      cumulative: number[];
      count: number;
      sum: number;
    };
    this.buckets.forEach((le, i) => {
      if (value <= le) h.cumulative[i] = (h.cumulative[i] ?? 0) + 1;
    });
    h.count++;
    h.sum += value;
  }
  render(e: Exposition, name: string): void {
    for (const h of this.#values.values())
      e.bucketed(name, h.labels, this.buckets, h.cumulative, h.count, h.sum);
  }
}
