// Reads at scale: GET /v1/vms, /v1/status and /metrics with N VMs known, and berth's startup (with reconcile)
// and RSS at each N. Each N runs in its own berth process on libvirt's test driver (see README).
// Usage: bun bench/reads.ts   (env BENCH_READS_N="100,1000,10000", BENCH_READS_SAMPLES=200,
// BENCH_READS_RESTART_MAX=1000: larger N skip the restart, which the test driver's node-file parse dominates)
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { toXml } from "../src/xml/codec.ts";
import { type BerthProcess, startBerthProcess } from "./support/berth-process.ts";
import type { HttpClient } from "./support/http.ts";
import { forEachLimit, runLoad } from "./support/load.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { type Summary, summarize } from "./support/stats.ts";
import { seedTinyProfile, testDriverToml } from "./support/test-driver.ts";

const sizes = envList("BENCH_READS_N", [100, 1000, 10000]);
const maxSamples = envInt("BENCH_READS_SAMPLES", 200);
const restartMax = envInt("BENCH_READS_RESTART_MAX", 1000);
const ROUTES = ["/v1/vms", "/v1/status", "/metrics"] as const;
const STORE = "bench-store";

/** Samples per route: fewer at large N so each N takes seconds, not minutes. */
const samplesFor = (n: number) => Math.max(20, Math.min(maxSamples, Math.round(200_000 / n)));

async function seedVms(api: HttpClient, profile: string, n: number): Promise<number> {
  const t0 = performance.now();
  await forEachLimit(
    Array.from({ length: n }, (_, i) => `rd-${i}`),
    32,
    async (name) => {
      await api.expect("POST", "/v1/vms?wait=true", 200, {
        name,
        profile,
        tags: { team: `t${name.length}` },
      });
    },
  );
  return performance.now() - t0;
}

/**
 * The test driver forgets its domains when the process ends; a restart with the same database needs them
 * back. libvirt's test driver loads a node file (test:///path.xml): berth's domains (their XML as berth
 * defined them) and its storage pool with every volume, so the restart reconciles N real domains.
 */
async function writeNodeFile(api: HttpClient, dataDir: string, names: string[]): Promise<string> {
  const domains: string[] = [];
  await forEachLimit(names, 32, async (name) => {
    const xml = (await api.expect("GET", `/v1/vms/${name}/xml`, 200)).body as string;
    domains.push(xml.replace(/^<\?xml[^>]*>\s*/, ""));
  });
  const paths = new Set<string>();
  for (const d of domains)
    for (const m of d.matchAll(/<source file=['"]([^'"]+)['"]/g)) paths.add(m[1] as string);
  for (const img of (await api.expect("GET", "/v1/images", 200)).body) paths.add(img.path);
  const pool = toXml({
    pool: {
      "@type": "dir",
      name: STORE,
      target: { path: join(dataDir, "pool") },
      volume: [...paths].map((p) => ({
        "@type": "file",
        name: basename(p),
        capacity: { "@unit": "bytes", "#text": 1048576 },
        target: { path: p, format: { "@type": "qcow2" } },
      })),
    },
  });
  const file = join(dataDir, "test-node.xml");
  writeFileSync(file, `<node>\n${domains.join("\n")}\n${pool}\n</node>\n`);
  return file;
}

async function measureReads(api: HttpClient, n: number): Promise<Record<string, Summary>> {
  const out: Record<string, Summary> = {};
  for (const route of ROUTES) {
    await api.expect("GET", route, 200); // warm
    const r = await runLoad(1, samplesFor(n), async () => {
      const res = await fetch(`${api.base}${route}`);
      if (res.status !== 200) throw new Error(`GET ${route}: ${res.status}`);
      await res.arrayBuffer();
    });
    out[route] = summarize(r.latencies);
  }
  return out;
}

interface AtN {
  n: number;
  seedMs: number;
  reads: Record<string, Summary>;
  vmsBytes: number;
  rssAfterSeedMiB: number;
  /** null above BENCH_READS_RESTART_MAX: the test driver's parse of a huge node file dominates it. */
  restart: {
    virshListMs: number;
    healthyMs: number;
    reconciledMs: number;
    idleRssMiB: number;
    rssAfterReadsMiB: number;
  } | null;
}

const runs: AtN[] = [];
for (const n of sizes) {
  let berth: BerthProcess | null = await startBerthProcess({ toml: testDriverToml() });
  try {
    const profile = await seedTinyProfile(berth.api, "bench");
    const seedMs = await seedVms(berth.api, profile, n);
    const vmsBytes = (await (await fetch(`${berth.url}/v1/vms`)).arrayBuffer()).byteLength;
    const reads = await measureReads(berth.api, n);
    const rssAfterSeedMiB = berth.rssMiB();
    let restart: AtN["restart"] = null;
    if (n <= restartMax) {
      const names = (await berth.api.expect("GET", "/v1/vms", 200)).body.map((v: { name: string }) => v.name);
      const nodeFile = await writeNodeFile(berth.api, berth.dataDir, names);
      const dataDir = berth.dataDir;
      await berth.stop();
      berth = null;
      // What loading the node file costs libvirt alone (every connection to it parses it again).
      const v0 = performance.now();
      const virsh = Bun.spawnSync(["virsh", "-q", "-c", `test://${nodeFile}`, "list", "--all", "--name"]);
      const virshListMs = performance.now() - v0;
      if (virsh.exitCode !== 0) throw new Error(`virsh on ${nodeFile} failed`);
      // The restart: same database, the domains back in the test driver; reconcile's first pass logs at debug.
      // One hypervisor Worker: each connection holds its own copy of the node file's domains.
      berth = await startBerthProcess({
        toml: `log_level = "debug"\n${testDriverToml({ uri: `test://${nodeFile}`, workers: 1 })}`,
        dataDir,
        readyLine: /reconcile/,
        timeoutMs: 300_000,
      });
      if (/marked gone|vanished/.test(berth.stderr()))
        throw new Error(`restart at N=${n}: reconcile marked VMs gone: ${berth.stderr().slice(-1500)}`);
      await Bun.sleep(1000);
      const idleRssMiB = berth.rssMiB();
      const listed = (await berth.api.expect("GET", "/v1/vms", 200)).body.length;
      if (listed !== n) throw new Error(`restart at N=${n}: ${listed} VMs listed`);
      await measureReads(berth.api, Math.max(n, 1000)); // a short load: RSS under reads after the restart
      restart = {
        virshListMs,
        healthyMs: berth.healthyMs,
        reconciledMs: berth.readyLineMs ?? -1,
        idleRssMiB,
        rssAfterReadsMiB: berth.rssMiB(),
      };
    }
    runs.push({ n, seedMs, reads, vmsBytes, rssAfterSeedMiB, restart });
  } finally {
    await berth?.stop();
  }
}

const readTable: Table = {};
for (const route of ROUTES) {
  runs.forEach((r, i) => {
    const s = r.reads[route] as Summary;
    const prev = i > 0 ? (runs[i - 1]?.reads[route] as Summary) : null;
    const growth = prev ? s.median / prev.median : null;
    const nGrowth = prev ? r.n / (runs[i - 1] as AtN).n : null;
    readTable[`GET ${route} N=${r.n}`] = {
      n: s.n,
      "min ms": fmt(s.min, 2),
      "median ms": fmt(s.median, 2),
      "p99 ms": fmt(s.p99, 2),
      "max ms": fmt(s.max, 2),
      "median ×/prev N": growth === null ? "-" : `${fmt(growth, 1)} (N ×${fmt(nGrowth, 0)})`,
    };
  });
}
const startTable: Table = {};
for (const r of runs) {
  startTable[`N=${r.n}`] = {
    "seed VMs/s": fmt((r.n * 1000) / r.seedMs, 0),
    "/v1/vms KiB": fmt(r.vmsBytes / 1024, 0),
    "RSS after seed MiB": fmt(r.rssAfterSeedMiB, 0),
    "virsh list on node file ms": fmt(r.restart?.virshListMs, 0),
    "restart → healthy ms": fmt(r.restart?.healthyMs, 0),
    "restart → reconciled ms": fmt(r.restart?.reconciledMs, 0),
    "idle RSS MiB": fmt(r.restart?.idleRssMiB, 0),
    "RSS after reads MiB": fmt(r.restart?.rssAfterReadsMiB, 0),
  };
}
printTable("read latency over HTTP at c=1 (berth process on libvirt's test driver, N VMs known)", readTable);
printTable("startup (restart on a database and test-driver node file holding N VMs) and RSS", startTable);
writeResults("reads", {
  transport: "real HTTP socket, one request at a time",
  seeding:
    "VMs created through POST /v1/vms on test:///default; restart on test:///<node file> with the same domains",
  runs,
});
process.exit(0);
