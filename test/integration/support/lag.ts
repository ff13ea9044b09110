// Measures the event-loop lag of this thread: how late a 5 ms timer fires while work happens elsewhere.
export interface LagProbe {
  stop(): { max: number; p99: number; samples: number };
}

export function startLagProbe(intervalMs = 5): LagProbe {
  const lags: number[] = [];
  let last = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - intervalMs));
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(t);
      const sorted = [...lags].sort((a, b) => a - b);
      return {
        max: sorted.at(-1) ?? 0,
        p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
        samples: sorted.length,
      };
    },
  };
}
