// Idle RSS of the compiled binary on test:///default, with no VMs and with N VMs known, split into anonymous
// memory, the executable's own file pages and shared libraries; libvirt's test driver's share measured apart.
// Usage: bun bench/idle-rss.ts   (env BENCH_IDLE_N=10000, BENCH_IDLE_SETTLE_S=5, BENCH_BINARY=dist/berth:
// skips the build; a correctness check: BENCH_IDLE_N=300)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BerthProcess, startBerthProcess } from "./support/berth-process.ts";
import { forEachLimit } from "./support/load.ts";
import { type RssParts, rssParts } from "./support/proc-rss.ts";
import { envInt, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { seedTinyProfile, testDriverToml } from "./support/test-driver.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const N = envInt("BENCH_IDLE_N", 10_000);
const SETTLE_S = envInt("BENCH_IDLE_SETTLE_S", 5);
const TARGET_MIB = 100;

let binary = process.env.BENCH_BINARY;
if (!binary) {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build: ${build.stderr.toString()}`);
  binary = join(ROOT, "dist/berth");
}

// A reconcile pass every 5 s, so the idle figure includes the marks it caches for every domain.
const toml = testDriverToml({ extra: "[reconcile]\ninterval_s = 5" });

/** After SETTLE_S s, samples for 12 s (two reconcile passes and the GCs after them): the lowest and highest VmRSS. */
async function idle(berth: BerthProcess): Promise<{ low: RssParts; high: RssParts }> {
  await Bun.sleep(SETTLE_S * 1000);
  let low = rssParts(berth.pid);
  let high = low;
  for (let i = 0; i < 24; i++) {
    await Bun.sleep(500);
    const r = rssParts(berth.pid);
    if (r.total < low.total) low = r;
    if (r.total > high.total) high = r;
  }
  return { low, high };
}

const empty = await startBerthProcess({ toml, binary });
let emptyRss: { low: RssParts; high: RssParts };
try {
  emptyRss = await idle(empty);
} finally {
  await empty.stop();
}

const berth = await startBerthProcess({ toml, binary });
let seededRss: { low: RssParts; high: RssParts };
let seedMs = 0;
const xmlFile = join(mkdtempSync(join(tmpdir(), "berth-idle-rss-")), "domain.xml");
try {
  await seedTinyProfile(berth.api, "bench");
  // 16 MiB guests: N of them fit the test driver's 3 GiB host at memory_overcommit 100.
  await berth.api.expect("POST", "/v1/profiles", 201, {
    name: "bench-idle",
    image: "bench-img",
    cpus: 1,
    memory_mib: 16,
  });
  const t0 = performance.now();
  await forEachLimit(
    Array.from({ length: N }, (_, i) => `ir-${i}`),
    32,
    async (name) => {
      await berth.api.expect("POST", "/v1/vms?wait=true", 200, {
        name,
        profile: "bench-idle",
        tags: { team: "t1" },
      });
    },
  );
  seedMs = performance.now() - t0;
  writeFileSync(xmlFile, (await berth.api.expect("GET", "/v1/vms/ir-0/xml", 200)).body as string);
  // Every list cache filled, as a berth whose VMs are listed holds them; then a reconcile pass runs.
  for (const route of ["/v1/vms", "/v1/vms?recursion=0", "/v1/vms?limit=100"]) {
    const res = await fetch(`${berth.url}${route}`);
    if (res.status !== 200) throw new Error(`GET ${route}: ${res.status}`);
    await res.arrayBuffer();
  }
  const listed = (await berth.api.expect("GET", "/v1/vms?recursion=0", 200)).body.length;
  if (listed !== N) throw new Error(`${listed} VMs listed, ${N} made`);
  await Bun.sleep(6000);
  seededRss = await idle(berth);
} finally {
  await berth.stop();
}

// The test driver keeps its domains and volumes inside berth's process; a bare process holding the same shows its part.
const child = Bun.spawnSync(["bun", join(ROOT, "bench/support/test-driver-rss.ts"), String(N), xmlFile], {
  cwd: ROOT,
  stdout: "pipe",
  stderr: "pipe",
});
if (child.exitCode !== 0) throw new Error(`test-driver-rss: ${child.stderr.toString()}`);
const td = JSON.parse(child.stdout.toString()) as { before: RssParts; after: RssParts };
const tdMiB = td.after.anon - td.before.anon;

const row = (r: RssParts) => ({
  "VmRSS MiB": fmt(r.total, 1),
  "anon MiB": fmt(r.anon, 1),
  "file: executable MiB": fmt(r.exe, 1),
  "file: libraries MiB": fmt(r.file - r.exe, 1),
  "shmem MiB": fmt(r.shmem, 1),
  threads: r.threads,
});
const low = seededRss.low;
const table: Table = {
  "no VMs (lowest)": row(emptyRss.low),
  [`${N} VMs known (lowest)`]: row(low),
  [`${N} VMs known (highest: a reconcile pass's garbage)`]: row(seededRss.high),
  [`${N} VMs (lowest), minus the test driver's own domains`]: {
    "VmRSS MiB": fmt(low.total - tdMiB, 1),
    "anon MiB": fmt(low.anon - tdMiB, 1),
    [`target < ${TARGET_MIB}`]: low.total - tdMiB < TARGET_MIB ? "met" : "MISSED",
  },
  [`test driver alone, ${N} running domains + volumes (bare process, anon)`]: { "anon MiB": fmt(tdMiB, 1) },
  "berth's anon per VM known (lowest, minus the test driver)": {
    "anon MiB": `${fmt(((low.anon - tdMiB - emptyRss.low.anon) * 1024) / N, 2)} KiB`,
  },
};
printTable(
  `idle RSS of ${binary} on test:///default, ${SETTLE_S} s idle then sampled for 12 s (seeded at ${fmt((N * 1000) / seedMs, 0)} VMs/s)`,
  table,
);
writeResults("idle-rss", { n: N, binary, empty: emptyRss, seeded: seededRss, testDriver: td, seedMs });
process.exit(0);
