// Reconcile at scale: pass time and the HTTP thread's lag with N VMs on the test driver, and restart to healthy
// on real libvirtd with N defined domains; each against a baseline measured in the same run.
// Usage: bun bench/reconcile.ts   (env BENCH_RECONCILE_N=10000 (test driver), BENCH_RESTART_N=10000 (real
// libvirtd, 0 = skip; needs root and a running libvirtd))
import { rmSync } from "node:fs";
import { reconcile } from "../src/core/reconcile/reconcile.ts";
import { instanceId } from "../src/db/host-meta.ts";
import { openDatabase } from "../src/db/open.ts";
import { lastOperationOn } from "../src/db/operations.ts";
import { allDomainStats, Connection, DomainStatsTypes } from "../src/ffi/index.ts";
import { createApp } from "../src/routes/app.ts";
import { BERTH_NS, buildDomainXml } from "../src/xml/domain.ts";
import { startLagProbe } from "../test/integration/support/lag.ts";
import { testConfig, testCore } from "../test/support/core.ts";
import { startBerthProcess } from "./support/berth-process.ts";
import { requireLibvirt } from "./support/libvirt-env.ts";
import { envInt, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { summarize } from "./support/stats.ts";

const N = envInt("BENCH_RECONCILE_N", 10_000);
const RESTART_N = envInt("BENCH_RESTART_N", 10_000);
const tag = `brc${process.pid}`;
const dom = (i: number) => `${tag}-${i}`;

const domainXml = (i: number, instance?: string) =>
  buildDomainXml({
    name: dom(i),
    type: "qemu",
    vcpus: 1,
    memoryMiB: 64,
    boot: { kind: "disk" },
    disks: [],
    nics: [],
    berthId: `${tag}-id-${i}`,
    ...(instance ? { berthInstance: instance } : {}),
  });

/** Rows for the N domains, in step with them (stopped), so a pass checks everything and changes nothing. */
function seedRows(db: ReturnType<typeof openDatabase>, n: number): void {
  const at = new Date(Date.now() - 60_000).toISOString();
  const insert = db.query(
    `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
     VALUES (?, ?, 'stopped', 1, 64, '{"mode":"disk"}', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(`${tag}-id-${i}`, dom(i), at, at);
  })();
}

/** Two finished operations per VM (its create and a start), as a berth that has run a while holds. */
function seedOperations(db: ReturnType<typeof openDatabase>, n: number): void {
  const insert = db.query(
    `INSERT INTO operations (id, kind, target, status, created_at, updated_at, finished_at)
     VALUES (?, ?, ?, 'succeeded', ?, ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      for (const [k, kind] of ["vm.create", "vm.start"].entries()) {
        const at = new Date(Date.now() - 120_000 + k * 1000).toISOString();
        insert.run(`${tag}-op-${i}-${k}`, kind, `vm/${dom(i)}`, at, at, at);
      }
    }
  })();
}

/** The pre-O(N) listing: per domain its name, UUID, state, persistence and metadata (one RPC each on libvirtd). */
function perDomainList(c: Connection): number {
  let n = 0;
  for (const d of c.listDomains()) {
    using x = d;
    x.name();
    x.uuid();
    x.state();
    x.isPersistent();
    x.metadata(BERTH_NS);
    n++;
  }
  return n;
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

// ---- test driver, in-process: pass time, lag, /healthz during a pass
async function onTestDriver() {
  const core = await testCore(testConfig('[storage]\npool = "default-pool"\n[demo]\nenabled = false'));
  const c = Connection.open("test:///default");
  try {
    for (let i = 0; i < N; i++) c.defineDomain(domainXml(i)).free();
    seedRows(core.db, N);
    seedOperations(core.db, N);
    // The defines' lifecycle events reach berth first (each one makes that domain's mark be read again).
    await Bun.sleep(Math.max(1000, N / 5));
    // Baselines: the old per-domain listing, a bare stats call, and the old per-row operations lookup.
    const oldList = timed(() => perDomainList(c));
    const bare = timed(() => {
      const r = allDomainStats(c, DomainStatsTypes.STATE);
      for (const x of r) x.domain.free();
      return r.length;
    });
    // O(rows × operations): timed on at most 1000 rows and scaled to N.
    const sample = Math.min(N, 1000);
    const oldOpsSample = timed(() => {
      const q = core.db.query(
        "SELECT * FROM operations WHERE (?1 IS NULL OR target = ?1) ORDER BY created_at DESC LIMIT 1",
      );
      for (let i = 0; i < sample; i++) q.get(`vm/${dom(i)}`);
    });
    const oldOps = { ms: (oldOpsSample.ms * N) / sample };
    const newOps = timed(() => {
      for (let i = 0; i < N; i++) lastOperationOn(core.db, `vm/${dom(i)}`);
    });
    // What the old pass spent at least: its listing plus one operations lookup per row.
    const oldPass = { ms: oldList.ms + oldOps.ms };
    const app = createApp(core);
    const pass = async () => {
      const probe = startLagProbe(5);
      const health: number[] = [];
      let on = true;
      const sampler = (async () => {
        while (on) {
          const t = performance.now();
          const res = await app.handle(new Request("http://localhost/healthz"));
          if (res.status !== 200) throw new Error(`/healthz ${res.status}`);
          health.push(performance.now() - t);
          await Bun.sleep(10);
        }
      })();
      const t0 = performance.now();
      const r = await reconcile(core);
      const ms = performance.now() - t0;
      on = false;
      await sampler;
      if (r.errors.length > 0 || r.gone.length > 0 || r.synced.length > 0)
        throw new Error(`pass changed things: ${JSON.stringify(r).slice(0, 500)}`);
      if (r.checked.vms < N) throw new Error(`pass checked ${r.checked.vms} rows`);
      return { ms, lag: probe.stop(), healthz: summarize(health) };
    };
    const first = await pass(); // marks of every domain unread: read in calls of 256
    const steady = await pass(); // marks cached: one stats call
    return { oldList, bare, oldOps, newOps, oldPass, first, steady };
  } finally {
    for (let i = 0; i < N; i++) {
      try {
        using d = c.domainByName(dom(i));
        d.undefine();
      } catch {
        // Not defined (a failure part-way through seeding): nothing to undo.
      }
    }
    c.close();
    await core.close();
  }
}

/** berth on libvirtd with nothing of its own to start (no demo, no pools). */
function restartToml(uri: string): string {
  return [
    'log_level = "debug"',
    "[hypervisor]",
    `uri = "${uri}"`,
    'domain_type = "qemu"',
    "[network]",
    "manage_bridges = false",
    "[storage]",
    `pool = "${tag}-store"`,
    "[demo]",
    "enabled = false",
  ].join("\n");
}

/** BENCH_BINARY=dist/berth restarts the compiled binary (as installed) instead of `bun src/main.ts`. */
const binary = process.env.BENCH_BINARY ? { binary: process.env.BENCH_BINARY } : {};

// ---- real libvirtd: restart to healthy with RESTART_N defined domains
async function onLibvirtd() {
  requireLibvirt();
  const uri = "qemu:///system";
  const dataDir = `/tmp/${tag}-data`;
  const db = openDatabase(dataDir);
  const instance = instanceId(db);
  const c = Connection.open(uri);
  const defined: string[] = [];
  try {
    // Baseline in the same run: the same berth, database and config before the N domains exist.
    const empty = await startBerthProcess({ toml: restartToml(uri), dataDir, ...binary });
    await empty.stop();
    const def = timed(() => {
      for (let i = 0; i < RESTART_N; i++) {
        c.defineDomain(domainXml(i, instance)).free();
        defined.push(dom(i));
      }
    });
    seedRows(db, RESTART_N);
    db.close();
    const total = c.listDomains().map((d) => d.free()).length;
    const bareList = timed(() => c.listDomains().map((d) => d.free()).length);
    const bareStats = timed(
      () => allDomainStats(c, DomainStatsTypes.STATE).map((r) => r.domain.free()).length,
    );
    const oldList = timed(() => perDomainList(c));
    const berth = await startBerthProcess({
      toml: restartToml(uri),
      dataDir,
      ...binary,
      readyLine: /"msg":"reconcile(: in step| finished with errors)?"/,
      timeoutMs: 600_000,
    });
    const log = berth.stderr();
    // Idle, after its first pass, with the N VMs known (their domains live in libvirtd, not in berth).
    const idleRssMiB = berth.rssMiB();
    await berth.stop();
    const gone = /marked gone/.test(log);
    if (gone) throw new Error(`restart: reconcile marked VMs gone: ${log.slice(-1500)}`);
    // The same pass in-process on libvirtd: the first reads every mark, the next only the stats call.
    const live = await testCore(
      testConfig(restartToml(uri).replace('log_level = "debug"', 'log_level = "warn"'), {
        BERTH_HYPERVISOR_URI: uri,
        BERTH_DATA_DIR: dataDir,
      }),
    );
    const livePasses: { ms: number; lag: { p99: number; max: number } }[] = [];
    try {
      for (let k = 0; k < 2; k++) {
        const probe = startLagProbe(5);
        const t0 = performance.now();
        const r = await reconcile(live);
        livePasses.push({ ms: performance.now() - t0, lag: probe.stop() });
        if (r.gone.length > 0 || r.errors.length > 0)
          throw new Error(`live pass: ${JSON.stringify(r).slice(0, 500)}`);
      }
    } finally {
      await live.close();
    }
    return {
      domains: total,
      defineMs: def.ms,
      bareList,
      bareStats,
      oldList,
      healthyMs: berth.healthyMs,
      emptyHealthyMs: empty.healthyMs,
      idleRssMiB,
      livePasses,
      reconciledMs: berth.readyLineMs ?? -1,
    };
  } finally {
    for (const name of defined) {
      try {
        using d = c.domainByName(name);
        d.undefine();
      } catch {
        // Already gone.
      }
    }
    try {
      using p = c.storagePoolByName(`${tag}-store`);
      if (p.isActive()) p.destroy();
      p.undefine();
    } catch {
      // berth made no storage pool in this run.
    }
    c.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const td = await onTestDriver();
const lv = RESTART_N > 0 ? await onLibvirtd() : null;

const table: Table = {
  [`test driver, N=${N}: first pass (marks unread)`]: {
    "pass ms": fmt(td.first.ms, 0),
    "lag p99 ms": fmt(td.first.lag.p99, 1),
    "lag max ms": fmt(td.first.lag.max, 1),
    "/healthz p99 ms": fmt(td.first.healthz.p99, 1),
    "baseline ms": fmt(td.oldPass.ms, 0),
    "pass / baseline": fmt(td.first.ms / td.oldPass.ms, 2),
  },
  [`test driver, N=${N}: steady pass (marks cached)`]: {
    "pass ms": fmt(td.steady.ms, 0),
    "lag p99 ms": fmt(td.steady.lag.p99, 1),
    "lag max ms": fmt(td.steady.lag.max, 1),
    "/healthz p99 ms": fmt(td.steady.healthz.p99, 1),
    "baseline ms": fmt(td.oldPass.ms, 0),
    "pass / baseline": fmt(td.steady.ms / td.oldPass.ms, 2),
  },
};
printTable(
  "reconcile pass (baseline: the old pass's per-domain listing + per-row OR-form operations lookups, a lower bound of it; targets: pass < 500 ms, lag p99 < 20 ms at N=10000)",
  table,
);
printTable("pieces (test driver)", {
  [`stats call, all ${td.bare.value} domains`]: { ms: fmt(td.bare.ms, 1) },
  [`old per-domain listing (${td.oldList.value} domains)`]: { ms: fmt(td.oldList.ms, 1) },
  [`old operations lookup (OR form) × ${N}, ${2 * N} operations (scaled from ${Math.min(N, 1000)})`]: {
    ms: fmt(td.oldOps.ms, 1),
  },
  [`indexed operations lookup × ${N}`]: {
    ms: fmt(td.newOps.ms, 1),
    "old / new": fmt(td.oldOps.ms / td.newOps.ms, 1),
  },
});
if (lv) {
  printTable(
    `restart on qemu:///system with ${lv.domains} domains (${RESTART_N} defined here; target healthy < 500 ms, idle RSS < 100 MiB)`,
    {
      [`berth serve${binary.binary ? " (binary)" : ""} with them`]: {
        "healthy ms": fmt(lv.healthyMs, 0),
        "first pass done ms": fmt(lv.reconciledMs, 0),
        "healthy / 500 ms": fmt(lv.healthyMs / 500, 2),
        "healthy / without them": fmt(lv.healthyMs / lv.emptyHealthyMs, 2),
        "idle RSS MiB (target < 100)": fmt(lv.idleRssMiB, 0),
      },
      "same berth before they were defined": { "healthy ms": fmt(lv.emptyHealthyMs, 0) },
      "pass in-process, marks unread": {
        "pass ms": fmt(lv.livePasses[0]?.ms, 0),
        "lag p99 ms": fmt(lv.livePasses[0]?.lag.p99, 1),
        "pass / old listing": fmt((lv.livePasses[0]?.ms ?? 0) / lv.oldList.ms, 2),
      },
      "pass in-process, marks cached": {
        "pass ms": fmt(lv.livePasses[1]?.ms, 0),
        "lag p99 ms": fmt(lv.livePasses[1]?.lag.p99, 1),
        "pass / old listing": fmt((lv.livePasses[1]?.ms ?? 0) / lv.oldList.ms, 2),
      },
      "bare virConnectListAllDomains": { ms: fmt(lv.bareList.ms, 1) },
      "virConnectGetAllDomainStats (state)": { ms: fmt(lv.bareStats.ms, 1) },
      "old per-domain listing": {
        ms: fmt(lv.oldList.ms, 0),
        "first pass / old listing": fmt(
          lv.reconciledMs > 0 ? (lv.reconciledMs - lv.healthyMs) / lv.oldList.ms : null,
          2,
        ),
      },
    },
  );
}
writeResults("reconcile", { n: N, restartN: RESTART_N, testDriver: td, libvirtd: lv });
process.exit(0);
