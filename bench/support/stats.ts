// Summary statistics of latency samples (ms) and the berth/baseline ratio, shared by every benchmark.

export interface Summary {
  n: number;
  min: number;
  median: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank quantile of an ascending array (q in 0..1). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  return {
    n: s.length,
    min: s[0] ?? 0,
    median,
    p50: median,
    p99: quantile(s, 0.99),
    max: s.at(-1) ?? 0,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0,
  };
}

/** berth / baseline, or null when the baseline has no figure. */
export function ratio(berth: number, baseline: number): number | null {
  return baseline > 0 ? berth / baseline : null;
}
