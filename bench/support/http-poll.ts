// Polls one URL every `interval` ms and prints the wall-clock time (epoch ms) of each 200 answer; run inside a namespace by `ip netns exec`.
// Usage: bun bench/support/http-poll.ts URL INTERVAL_MS. Stops on SIGTERM.
export {};

const [url, every] = [process.argv[2] as string, Number(process.argv[3] ?? 20)];
if (!url || !(every > 0)) throw new Error("usage: http-poll.ts URL INTERVAL_MS");
for (;;) {
  const t = performance.now();
  const ok = await fetch(url, { signal: AbortSignal.timeout(Math.max(200, 10 * every)) })
    .then(async (r) => {
      await r.arrayBuffer();
      return r.status === 200;
    })
    .catch(() => false);
  if (ok) process.stdout.write(`${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
  const left = every - (performance.now() - t);
  if (left > 0) await Bun.sleep(left);
}
