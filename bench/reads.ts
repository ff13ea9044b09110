// Reads at scale: GET /v1/vms, /v1/status and /metrics with N VMs known, and berth's startup (with reconcile)
// and RSS at each N. Each N runs in its own berth process on libvirt's test driver (see README).
// Usage: bun bench/reads.ts   (env BENCH_READS_N="100,1000,10000", BENCH_READS_SAMPLES=200,
// BENCH_READS_RESTART_MAX=1000: larger N skip the restart, which the test driver's node-file parse dominates,
// BENCH_LIST_WRK_SECONDS=5: wrk's run per list route; the list part needs wrk)
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { toXml } from "../src/xml/codec.ts";
import { type BerthProcess, startBerthProcess } from "./support/berth-process.ts";
import type { HttpClient } from "./support/http.ts";
import { forEachLimit, runLoad } from "./support/load.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { type Summary, summarize } from "./support/stats.ts";
import { seedTinyProfile, testDriverToml } from "./support/test-driver.ts";
import { type WrkResult, wrk } from "./support/wrk-latency.ts";

const sizes = envList("BENCH_READS_N", [100, 1000, 10000]);
const maxSamples = envInt("BENCH_READS_SAMPLES", 200);
const restartMax = envInt("BENCH_READS_RESTART_MAX", 1000);
const ROUTES = ["/v1/vms", "/v1/status", "/metrics"] as const;
const STORE = "bench-store";
const listWrkSeconds = envInt("BENCH_LIST_WRK_SECONDS", 5);
/** The list routes wrk loads (one client), with the floor: a small fixed body through the same server. */
const LIST_ROUTES = {
  floor: "/v1/sizes",
  full: "/v1/vms",
  urls: "/v1/vms?recursion=0",
  page: "/v1/vms?limit=100",
} as const;
/** Issue 15's targets at 10 000 VMs. */
const TARGETS = { fullP99Ms: 20, urlsP99Ms: 5, idleRssMiB: 100 };

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

interface Lists {
  wrk: Record<keyof typeof LIST_ROUTES, WrkResult>;
  /** RSS after the list loads and 2 s idle: every VM's JSON cached, the state map full. */
  idleRssMiB: number;
}

/** GET /v1/vms whole, as URLs and one page, beside the floor, under wrk at one client; each answer checked first. */
async function measureLists(berth: BerthProcess, n: number): Promise<Lists> {
  const full = (await berth.api.expect("GET", LIST_ROUTES.full, 200)).body as {
    name: string;
    state: string;
  }[];
  const urls = (await berth.api.expect("GET", LIST_ROUTES.urls, 200)).body as string[];
  if (full.length !== n || urls.length !== n)
    throw new Error(`lists at N=${n}: ${full.length} VMs, ${urls.length} URLs`);
  if (urls[0] !== `/v1/vms/${full[0]?.name}`) throw new Error(`recursion=0 answered ${urls[0]}`);
  if (full.some((v) => v.state === "unknown" || v.state === "absent"))
    throw new Error("a listed VM has no live state");
  const out = {} as Lists["wrk"];
  for (const [key, route] of Object.entries(LIST_ROUTES) as [keyof typeof LIST_ROUTES, string][]) {
    await berth.api.expect("GET", route, 200);
    const w = wrk(`${berth.url}${route}`, 1, listWrkSeconds);
    if (w.errors > 0 || w.requests === 0)
      throw new Error(`wrk ${route}: ${w.errors} errors, ${w.requests} requests`);
    out[key] = w;
  }
  await Bun.sleep(2000);
  return { wrk: out, idleRssMiB: berth.rssMiB() };
}

interface AtN {
  n: number;
  seedMs: number;
  reads: Record<string, Summary>;
  vmsBytes: number;
  rssAfterSeedMiB: number;
  lists: Lists;
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
    await seedTinyProfile(berth.api, "bench");
    // 16 MiB guests: 10 000 of them fit the test driver's 3 GiB host at [capacity]'s highest memory_overcommit (100).
    const profile = "bench-reads";
    await berth.api.expect("POST", "/v1/profiles", 201, {
      name: profile,
      image: "bench-img",
      cpus: 1,
      memory_mib: 16,
    });
    const seedMs = await seedVms(berth.api, profile, n);
    const vmsBytes = (await (await fetch(`${berth.url}/v1/vms`)).arrayBuffer()).byteLength;
    const reads = await measureReads(berth.api, n);
    const rssAfterSeedMiB = berth.rssMiB();
    const lists = await measureLists(berth, n);
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
    runs.push({ n, seedMs, reads, vmsBytes, rssAfterSeedMiB, lists, restart });
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
const listTable: Table = {};
for (const r of runs) {
  const w = r.lists.wrk;
  const cells = (x: WrkResult) => `${fmt(x.p50ms, 2)} / ${fmt(x.p99ms, 2)}`;
  listTable[`N=${r.n}`] = {
    "floor /v1/sizes p50/p99 ms": cells(w.floor),
    "full p50/p99 ms": cells(w.full),
    [`full p99 target <${TARGETS.fullP99Ms}`]:
      r.n === 10000 ? (w.full.p99ms < TARGETS.fullP99Ms ? "met" : "MISSED") : "-",
    "recursion=0 p50/p99 ms": cells(w.urls),
    [`recursion=0 p99 target <${TARGETS.urlsP99Ms}`]:
      r.n === 10000 ? (w.urls.p99ms < TARGETS.urlsP99Ms ? "met" : "MISSED") : "-",
    "limit=100 p50/p99 ms": cells(w.page),
    "full p99 / floor p99": fmt(w.full.p99ms / w.floor.p99ms, 1),
    "idle RSS MiB": fmt(r.lists.idleRssMiB, 0),
    [`RSS target <${TARGETS.idleRssMiB}`]:
      r.n === 10000 ? (r.lists.idleRssMiB < TARGETS.idleRssMiB ? "met" : "MISSED") : "-",
  };
}
printTable(
  `GET /v1/vms under wrk (1 client, ${listWrkSeconds} s per route; targets at N=10000: full p99 < ${TARGETS.fullP99Ms} ms, recursion=0 p99 < ${TARGETS.urlsP99Ms} ms, idle RSS < ${TARGETS.idleRssMiB} MiB)`,
  listTable,
);
printTable("read latency over HTTP at c=1 (berth process on libvirt's test driver, N VMs known)", readTable);
printTable("startup (restart on a database and test-driver node file holding N VMs) and RSS", startTable);
writeResults("reads", {
  transport: "real HTTP socket, one request at a time",
  seeding:
    "VMs created through POST /v1/vms on test:///default; restart on test:///<node file> with the same domains",
  runs,
});
process.exit(0);
