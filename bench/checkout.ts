// Checkout under load: a pool of thousands of ready VMs on test:///default in a real berth process, then
// concurrent checkouts and returns over a real HTTP socket through the native API and the vmpooler front.
// Usage: bun bench/checkout.ts   (env BENCH_POOL_SIZE, BENCH_CONCURRENCY="1,16,128", BENCH_CHECKOUTS="200,500,1000")
import { startBerthProcess } from "./support/berth-process.ts";
import type { HttpClient } from "./support/http.ts";
import { runLoad } from "./support/load.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { type Summary, summarize } from "./support/stats.ts";
import { seedTinyProfile, testDriverToml, waitPoolReady } from "./support/test-driver.ts";

const size = envInt("BENCH_POOL_SIZE", 2000);
const levels = envList("BENCH_CONCURRENCY", [1, 16, 128]);
const counts = envList("BENCH_CHECKOUTS", [200, 500, 1000]);
const POOL = "bench-co";

interface Front {
  name: string;
  /** Checks out one VM and returns its name. */
  checkout(api: HttpClient): Promise<string>;
  giveBack(api: HttpClient, vm: string): Promise<void>;
}

const fronts: Front[] = [
  {
    name: "native",
    async checkout(api) {
      const r = await api.expect("POST", "/v1/checkout", 200, { [POOL]: 1 });
      return r.body.vms[0].name as string;
    },
    async giveBack(api, vm) {
      await api.expect("DELETE", `/v1/vms/${vm}`, 202);
    },
  },
  {
    name: "vmpooler",
    async checkout(api) {
      const r = await api.expect("POST", `/api/v1/vm/${POOL}`, 200);
      return r.body[POOL].hostname as string;
    },
    async giveBack(api, vm) {
      await api.expect("DELETE", `/api/v1/vm/${vm}`, 200);
    },
  },
];

const row = (rps: number, s: Summary) => ({
  n: s.n,
  "req/s": fmt(rps, 0),
  "p50 ms": fmt(s.p50, 2),
  "p99 ms": fmt(s.p99, 2),
  "max ms": fmt(s.max, 2),
});

const berth = await startBerthProcess({ toml: testDriverToml() });
const { api } = berth;
const table: Table = {};
const results: Record<string, unknown> = {};
const handedOut: string[] = [];
let fillMs = 0;
try {
  const profile = await seedTinyProfile(api, "bench");
  await api.expect("POST", "/v1/pools", 201, { name: POOL, profile, size, ready_check: "running" });
  fillMs = await waitPoolReady(api, POOL, size);
  console.log(
    `pool of ${size} ready VMs filled in ${(fillMs / 1000).toFixed(1)} s (${fmt((size * 1000) / fillMs, 0)} VMs/s) on test:///default; berth RSS ${fmt(berth.rssMiB())} MiB`,
  );
  // The HTTP floor at each concurrency: a trivial read (GET /v1/sizes) over the same socket and client.
  for (const c of levels) {
    const r = await runLoad(c, 1000, async () => {
      await api.expect("GET", "/v1/sizes", 200);
    });
    const s = summarize(r.latencies);
    results[`floor GET /v1/sizes c=${c}`] = { concurrency: c, rps: r.rps, ...s };
    table[`floor GET /v1/sizes c=${c}`] = row(r.rps, s);
  }
  for (const front of fronts) {
    for (const [i, c] of levels.entries()) {
      const total = Math.min(counts[i] ?? counts.at(-1) ?? 100, size);
      await waitPoolReady(api, POOL, size); // each level starts from a full pool; refill runs during it
      const got: string[] = [];
      const out = await runLoad(c, total, async () => {
        got.push(await front.checkout(api));
      });
      const back = await runLoad(c, got.length, async (j) => front.giveBack(api, got[j] as string));
      handedOut.push(...got);
      for (const [verb, r] of [
        ["checkout", out],
        ["return", back],
      ] as const) {
        const s = summarize(r.latencies);
        const key = `${front.name} ${verb} c=${c}`;
        results[key] = { concurrency: c, rps: r.rps, ...s };
        table[key] = row(r.rps, s);
      }
    }
  }
} finally {
  await berth.stop();
}
const distinct = new Set(handedOut).size;
const twice = handedOut.length - distinct;
printTable(
  `checkout/return over HTTP (real socket, berth process on test:///default, pool ${size}, readiness running)`,
  table,
);
console.log(
  `${handedOut.length} VMs handed out, ${distinct} distinct: ${twice === 0 ? "none handed out twice" : `${twice} DUPLICATES`}`,
);
const c128 = results[`native checkout c=${levels.at(-1)}`] as { p99: number } | undefined;
if (c128) console.log(`target: native checkout p99 < 5 ms at c=${levels.at(-1)}: ${fmt(c128.p99, 2)} ms`);
writeResults("checkout", {
  transport: "real HTTP socket (bun src/main.ts serve; client fetch from this process)",
  poolSize: size,
  fillMs,
  handedOut: handedOut.length,
  distinct,
  rows: results,
});
process.exit(twice === 0 ? 0 : 1);
