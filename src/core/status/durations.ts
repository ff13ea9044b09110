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
  let total = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  // A loop, not Math.min(...x): a summary over many years has more values than a call takes arguments.
  for (const x of seconds) {
    total += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return {
    average: round(total / seconds.length),
    min: round(min),
    max: round(max),
    total: round(total),
    count: seconds.length,
  };
}
