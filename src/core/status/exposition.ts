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

/** Label sets in a stable key (the order of `names`; label values never hold NUL). */
const keyOf = (names: readonly string[], l: Labels) => names.map((n) => l[n] ?? "").join("\0");

/** A counter by label set; declared label sets exist at 0 before anything is counted. */
export class LabeledCounter {
  readonly #values = new Map<string, { labels: Labels; n: number }>();
  constructor(readonly labelNames: readonly string[]) {}
  #entry(l: Labels): { labels: Labels; n: number } {
    const k = keyOf(this.labelNames, l);
    let v = this.#values.get(k);
    if (!v) {
      v = { labels: l, n: 0 };
      this.#values.set(k, v);
    }
    return v;
  }
  declare(l: Labels): void {
    this.#entry(l);
  }
  inc(l: Labels, by = 1): void {
    this.#entry(l).n += by;
  }
  render(e: Exposition, name: string): void {
    for (const { labels, n } of this.#values.values()) e.sample(name, labels, n);
  }
}

interface HistogramEntry {
  labels: Labels;
  cumulative: number[];
  count: number;
  sum: number;
}

/** A histogram by label set (cumulative buckets kept as they come); declared label sets exist at 0. */
export class LabeledHistogram {
  readonly #values = new Map<string, HistogramEntry>();
  constructor(
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}
  #entry(l: Labels): HistogramEntry {
    const k = keyOf(this.labelNames, l);
    let h = this.#values.get(k);
    if (!h) {
      h = { labels: l, cumulative: this.buckets.map(() => 0), count: 0, sum: 0 };
      this.#values.set(k, h);
    }
    return h;
  }
  declare(l: Labels): void {
    this.#entry(l);
  }
  observe(l: Labels, value: number): void {
    const h = this.#entry(l);
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) h.cumulative[i] = (h.cumulative[i] ?? 0) + 1;
    }
    h.count++;
    h.sum += value;
  }
  render(e: Exposition, name: string): void {
    for (const h of this.#values.values())
      e.bucketed(name, h.labels, this.buckets, h.cumulative, h.count, h.sum);
  }
}
