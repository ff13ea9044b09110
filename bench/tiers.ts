// Pool tiers on real libvirtd: per tier (running, paused, saved), host memory held per ready VM and
// checkout-to-usable (tcp:8080 answers), beside a cold create-to-usable measured in the same run.
// Usage: bun bench/tiers.ts (root; libvirtd running). Knobs: BENCH_TIERS_N=2 (ready VMs per tier),
// BENCH_TIERS_COLD=1 (cold creates). Writes bench/results/tiers.json.
import { startPoolScheduler } from "../src/scheduler/pools.ts";
import { waitFor } from "../test/integration/support/daemons.ts";
import { qemuRssBytes, saveImageBytes, tcpAnswersAfter } from "../test/integration/support/tier-probe.ts";
import { tinyPoolEnv } from "../test/integration/support/tiny-pool.ts";
import { DEFAULT_WORKERS, requireLibvirt } from "./support/libvirt-env.ts";
import { envInt, fmt, printTable, writeResults } from "./support/report.ts";
import { ratio, summarize } from "./support/stats.ts";

requireLibvirt();
const N = envInt("BENCH_TIERS_N", 2);
const COLD = envInt("BENCH_TIERS_COLD", 1);
const TIERS = ["running", "paused", "saved"] as const;
const MiB = 2 ** 20;
const tag = `btier-${process.pid}`;
const env = await tinyPoolEnv(
  tag,
  "192.168.226.0/24",
  "[scheduler]\ninterval_s = 1\nmax_concurrent_creates = 2\n",
  {
    workers: DEFAULT_WORKERS,
  },
);
const { api } = env;
const poolOf = (tier: string) => `${tag}-${tier}`;

async function must(p: Promise<{ status: number; body: unknown }>, want: number) {
  const r = await p;
  if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as Record<string, unknown>;
}

/** ms from the request until the VM's tcp:8080 answers from the host (its address read after the answer). */
async function usableAfter(t0: number, name: string, ipMs: number[] = []): Promise<number> {
  let ip: string | null = null;
  await waitFor(
    async () => {
      ip = (await api.get(`/v1/vms/${name}`)).body.primary_ipv4 ?? null;
      return ip !== null;
    },
    120_000,
    `an address for ${name}`,
  );
  ipMs.push(performance.now() - t0);
  const left = await tcpAnswersAfter(ip as unknown as string, 8080, 120_000);
  if (left === null) throw new Error(`${name}: tcp:8080 never answered`);
  return performance.now() - t0;
}

type Row = {
  tier: string;
  rssMiB: number[];
  saveMiB: number[];
  checkoutMs: number[];
  ipMs: number[];
  usableMs: number[];
};
const rows: Row[] = [];
const coldMs: number[] = [];
try {
  for (const tier of TIERS) {
    const body = { name: poolOf(tier), profile: env.profile, size: N, ready_check: "tcp:8080", tier };
    await must(api.post("/v1/pools", body), 201);
  }
  const scheduler = startPoolScheduler(env.core);
  const full = async () => {
    for (const tier of TIERS)
      if ((await api.get(`/v1/pools/${poolOf(tier)}`)).body.counts.ready < N) return false;
    return true;
  };
  await waitFor(full, 900_000, `${N} ready VMs per tier`);
  await scheduler.stop(); // no refill competes with the measurements
  await Bun.sleep(3000); // let the guests settle after boot

  for (const tier of TIERS) {
    const pool = poolOf(tier);
    const ready = (
      env.core.db.query("SELECT vm_name FROM pool_vms WHERE pool = ? AND status = 'ready'").all(pool) as {
        vm_name: string;
      }[]
    ).map((r) => r.vm_name);
    const row: Row = { tier, rssMiB: [], saveMiB: [], checkoutMs: [], ipMs: [], usableMs: [] };
    for (const name of ready) {
      row.rssMiB.push((qemuRssBytes(name) ?? 0) / MiB); // a saved VM has no QEMU process
      row.saveMiB.push((saveImageBytes(name) ?? 0) / MiB);
    }
    for (let i = 0; i < ready.length; i++) {
      const t0 = performance.now();
      const out = await must(api.post("/v1/checkout", { [pool]: 1 }), 200);
      row.checkoutMs.push(performance.now() - t0);
      const name = (out.vms as { name: string }[])[0]?.name as string;
      row.usableMs.push(await usableAfter(t0, name, row.ipMs));
    }
    rows.push(row);
  }

  for (let i = 0; i < COLD; i++) {
    const name = `${tag}-cold-${i}`;
    const t0 = performance.now();
    await must(api.post("/v1/vms?wait=true", { name, profile: env.profile }), 200);
    coldMs.push(await usableAfter(t0, name));
  }
} finally {
  await env.teardown();
}

const med = (xs: number[]) => summarize(xs).median;
const running = rows.find((r) => r.tier === "running");
const cold = med(coldMs);
const table: Record<string, Record<string, string>> = {};
for (const r of rows) {
  const memRatio = ratio(med(r.rssMiB), med(running?.rssMiB ?? []));
  table[r.tier] = {
    "QEMU RSS MiB per ready VM": fmt(med(r.rssMiB), 1),
    "× running": fmt(memRatio, 3),
    "save image MiB (disk)": fmt(med(r.saveMiB), 1),
    "checkout answered ms": fmt(med(r.checkoutMs), 0),
    "checkout→address known ms": fmt(med(r.ipMs), 0),
    "checkout→usable ms": fmt(med(r.usableMs), 0),
    "÷ cold create→usable": fmt(ratio(med(r.usableMs), cold), 3),
  };
}
table["cold create"] = { "checkout→usable ms": fmt(cold, 0) };
printTable(
  `pool tiers: ${N} ready VMs per tier, tiny guest (TCG, 256 MiB), medians; cold create→usable ${fmt(cold, 0)} ms (n=${coldMs.length})`,
  table,
);
const saved = rows.find((r) => r.tier === "saved");
const savedShare = ratio(med(saved?.rssMiB ?? []), med(running?.rssMiB ?? []));
console.log(
  `target: saved memory per ready VM < 5% of running's: ${fmt((savedShare ?? 0) * 100, 1)}% (${(savedShare ?? 1) < 0.05 ? "met" : "missed"})`,
);
writeResults("tiers", { n: N, coldMs, rows, savedMemoryShare: savedShare });
process.exit(0);
