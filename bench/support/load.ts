// Runs a request function at a fixed concurrency for a fixed count, timing each call.

export interface LoadResult {
  latencies: number[];
  seconds: number;
  rps: number;
}

/** `concurrency` loops share `total` calls of `fn(i)`; each call's duration (ms) is one sample. */
export async function runLoad(
  concurrency: number,
  total: number,
  fn: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { latencies, seconds, rps: latencies.length / seconds };
}

/** Runs `fn` over `items` with at most `concurrency` at once (setup work, untimed). */
export async function forEachLimit<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  await runLoad(concurrency, items.length, (i) => fn(items[i] as T));
}
