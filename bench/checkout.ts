// Checkout under concurrent load through the native API (in-process, no socket) on the test driver.
// Usage: bun bench/checkout.ts. Prints a table and writes bench/results/checkout.json.
// The test driver's storage pool holds 100 GiB, so at most ~95 one-GiB VMs exist at once: 90 here.
import { mkdirSync, writeFileSync } from "node:fs";
import { apiClient } from "../test/support/api.ts";
import { cleanup, fill, poolCore } from "../test/unit/core/pools-support.ts";

const size = 90;
const core = await poolCore("bench-co", "[scheduler]\nmax_concurrent_creates = 64\n");
const api = apiClient(core);

const created = await api.post("/v1/pools", {
  name: "bench-co",
  profile: "bench-co-tiny",
  size,
  ready_check: "running",
});
if (created.status !== 201) throw new Error(JSON.stringify(created.body));
const t0 = performance.now();
await fill(core, "bench-co", size);
const fillMs = performance.now() - t0;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0 };
}

const handedOut: string[] = [];
const rows: Record<string, ReturnType<typeof stats> & { rps: number }> = {};
for (const [concurrency, total] of [
  [1, 10],
  [16, 16],
  [64, 64],
] as const) {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        const r = await api.post("/v1/checkout", { "bench-co": 1 });
        latencies.push(performance.now() - t);
        if (r.status !== 200) throw new Error(`checkout: ${r.status} ${JSON.stringify(r.body)}`);
        handedOut.push(...r.body.vms.map((v: { name: string }) => v.name));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  rows[`concurrency ${concurrency}`] = { ...stats(latencies), rps: latencies.length / seconds };
}
const distinct = new Set(handedOut).size;
console.log(`pool of ${size} ready VMs filled in ${(fillMs / 1000).toFixed(1)} s on test:///default`);
console.log(
  `checkouts: ${handedOut.length} VMs handed out, ${distinct} distinct (${handedOut.length === distinct ? "none twice" : "DUPLICATES"})`,
);
console.table(
  Object.fromEntries(
    Object.entries(rows).map(([k, v]) => [
      k,
      {
        n: v.n,
        "req/s": v.rps.toFixed(0),
        "p50 ms": v.p50.toFixed(2),
        "p99 ms": v.p99.toFixed(2),
        "max ms": v.max.toFixed(2),
      },
    ]),
  ),
);
mkdirSync(new URL("results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("results/checkout.json", import.meta.url),
  JSON.stringify(
    { at: new Date().toISOString(), size, fillMs, handedOut: handedOut.length, distinct, rows },
    null,
    2,
  ),
);
await cleanup(core);
await core.close();
process.exit(handedOut.length === distinct ? 0 : 1);
