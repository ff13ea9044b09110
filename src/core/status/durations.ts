// Duration statistics (seconds, two decimals) in vmpooler's {average, min, max, total} shape.

export interface DurationStats {
  average: number;
  min: number;
  max: number;
  total: number;
  count: number;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function durationStats(seconds: readonly number[]): DurationStats {
  if (seconds.length === 0) return { average: 0, min: 0, max: 0, total: 0, count: 0 };
  const total = seconds.reduce((a, b) => a + b, 0);
  return {
    average: round(total / seconds.length),
    min: round(Math.min(...seconds)),
    max: round(Math.max(...seconds)),
    total: round(total),
    count: seconds.length,
  };
}
