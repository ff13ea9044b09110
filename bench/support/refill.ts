// A pool refill on libvirt's test driver, in-process: event-loop lag, HTTP-thread CPU and hypervisor calls per VM.
import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../src/core/auth/access.ts";
import { newId } from "../../src/core/names.ts";
import { MemberWorker } from "../../src/core/pools/member-worker.ts";
import { createPool } from "../../src/core/pools/pools.ts";
import { startCheckpointer } from "../../src/db/checkpointer.ts";
import { DB_FILE } from "../../src/db/open.ts";
import { insertVm } from "../../src/db/vms.ts";
import { createApp } from "../../src/routes/app.ts";
import { startPoolScheduler } from "../../src/scheduler/pools.ts";
import { startLagProbe } from "../../test/integration/support/lag.ts";
import { testConfig, testCore } from "../../test/support/core.ts";
import { WORKERS } from "../../test/support/workers.ts";
import type { HttpClient, HttpReply } from "./http.ts";
import { seedTinyProfile, testDriverToml } from "./test-driver.ts";

/** CPU ms of this process's main thread (its task id is the pid) in user space and in the kernel, 10 ms ticks. */
function mainThreadTimes(): { user: number; system: number } {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

const mainThreadSystemMs = () => mainThreadTimes().system;

/** CPU ms of this process's main thread: user + system. */
export function mainThreadCpuMs(): number {
  const { user, system } = mainThreadTimes();
  return user + system;
}

/** An HttpClient over app.handle: the same routes, no socket. */
export function inProcessClient(app: ReturnType<typeof createApp>): HttpClient {
  const call = async (method: string, path: string, body?: unknown): Promise<HttpReply> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    return {
      status: res.status,
      body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
    };
  };
  return {
    base: "http://localhost",
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b),
    delete: (p) => call("DELETE", p),
    async expect(method, p, want, b) {
      const r = await call(method, p, b);
      if (r.status !== want)
        throw new Error(`${method} ${p}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r;
    },
  };
}

/** Where a refill's creates run: their Worker (berth serve) or the HTTP thread (a fleet host). */
export type RefillMode = "worker" | "thread";

export interface RefillResult {
  mode: RefillMode;
  vms: number;
  /** VMs berth knew before the refill began (rows only: what the create path's reads and writes see). */
  known: number;
  seconds: number;
  lag: { p99: number; max: number; samples: number };
  cpuMsPerVm: number;
  /** Of which in the kernel (wake-ups, message passing, SQLite's file reads and writes). */
  systemMsPerVm: number;
  /** The HTTP thread's hypervisor calls (the Worker's own client is not counted). */
  hvCallsPerVm: Record<string, number>;
  /** Baselines on the same database and hypervisor client, in the same run (HTTP-thread CPU ms each). */
  floor: { insertCommitMs: number; workerRoundTripMs: number };
  /** Pool VMs that failed on the way (each replaced by the scheduler; the CPU figure includes them). */
  failed: number;
}

/** Records `n` running VMs with a 1 MiB disk each, straight into the database (no libvirt domains). */
function seedKnown(db: Database, n: number, tag: string): void {
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = newId();
      insertVm(
        db,
        {
          id,
          name: `${tag}-known-${i}`,
          uuid: null,
          status: "running",
          // 16 MiB: 10 000 of them stay inside the test host's 3 GiB × the bench's memory_overcommit.
          vcpus: 1,
          memory_mib: 16,
          profile: null,
          image: null,
          boot: '{"mode":"disk"}',
          description: "",
          tags: "{}",
          ssh_keys: "[]",
          created_at: at,
          started_at: at,
          stopped_at: null,
          updated_at: at,
        },
        [
          {
            vm_id: id,
            unit: 0,
            name: "root",
            volume: `vm-${id}-0.qcow2`,
            path: `/nonexistent/vm-${id}-0.qcow2`,
            format: "qcow2",
            device: "disk",
            size: 1024 * 1024,
            image: null,
            bus: "scsi",
          },
        ],
        [],
      );
    }
  })();
}

/** HTTP-thread CPU ms of one single-row INSERT and its commit (WAL, synchronous=NORMAL), on berth's database. */
function insertCommitFloor(db: Database, n = 2000): number {
  db.run("CREATE TABLE bench_floor (k INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT");
  const t0 = performance.now(); // synchronous: wall time is this thread's CPU
  for (let i = 0; i < n; i++) db.run("INSERT INTO bench_floor (k, v) VALUES (?, ?)", [i, "x"]);
  const ms = (performance.now() - t0) / n;
  db.run("DROP TABLE bench_floor");
  return ms;
}

/** HTTP-thread CPU ms of one hypervisor Worker round trip (a ping), one at a time. */
async function roundTripFloor(core: Awaited<ReturnType<typeof testCore>>, n = 5000): Promise<number> {
  const cpu0 = mainThreadCpuMs();
  for (let i = 0; i < n; i++) await core.hv.call("ping", {});
  return (mainThreadCpuMs() - cpu0) / n;
}

/**
 * Fills a pool of `size` tiny VMs (readiness `running`) from empty with the scheduler, as `berth serve` runs
 * it, with `known` VMs recorded beforehand.
 */
export async function measureRefill(
  size: number,
  tag = "rf",
  known = 0,
  mode: RefillMode = "worker",
): Promise<RefillResult> {
  const toml = testDriverToml({ extra: "" }).replace('pool = "bench-store"', `pool = "${tag}-store"`);
  const core = await testCore(testConfig(toml.replace(/^\[hypervisor\]\nuri = "[^"]*"\n/, "[hypervisor]\n")));
  const api = inProcessClient(createApp(core));
  const profile = await seedTinyProfile(api, tag);
  const calls: Record<string, number> = {};
  const call = core.hv.call.bind(core.hv);
  core.hv.call = ((op: string, args: unknown, opts?: { timeoutMs?: number }) => {
    calls[op] = (calls[op] ?? 0) + 1;
    return call(op as never, args as never, opts);
  }) as typeof core.hv.call;
  seedKnown(core.db, known, tag);
  const floor = { insertCommitMs: insertCommitFloor(core.db), workerRoundTripMs: await roundTripFloor(core) };
  for (const k of Object.keys(calls)) delete calls[k];
  // As berth serve runs: WAL checkpoints in their Worker, never inside a commit on this thread.
  const checkpointer = await startCheckpointer(
    core.db,
    join(core.config.data_dir, DB_FILE),
    WORKERS.checkpointer,
  );
  // `worker`: members are created in their Worker, as berth serve does; `thread`: on this thread (a fleet's way).
  const members = mode === "worker" ? new MemberWorker(core, WORKERS) : null;
  const scheduler = startPoolScheduler(core, members ? { create: members.create } : {});
  try {
    await scheduler.idle();
    // Counted from the scheduler's own events: polling the members would add its own cost to the thread's.
    let ready = 0;
    let failed = 0;
    const allReady = Promise.withResolvers<void>();
    const off = core.events.subscribe((e) => {
      if (e.target !== `pool/${tag}-pool`) return;
      if (e.type === "pool.vm.ready" && ++ready === size) allReady.resolve();
      if (e.type === "pool.vm.failed") failed++; // the scheduler drains it and creates another
    });
    const probe = startLagProbe(5);
    const cpu0 = mainThreadCpuMs();
    const sys0 = mainThreadSystemMs();
    const t0 = performance.now();
    createPool(core, SYSTEM, { name: `${tag}-pool`, profile, size });
    const timeout = setTimeout(
      () => allReady.reject(new Error(`pool of ${size} not ready within 600 s`)),
      600_000,
    );
    await allReady.promise.finally(() => clearTimeout(timeout));
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerVm = (mainThreadCpuMs() - cpu0) / size;
    const systemMsPerVm = (mainThreadSystemMs() - sys0) / size;
    const lag = probe.stop();
    off();
    const hvCallsPerVm = Object.fromEntries(
      Object.entries(calls).map(([k, v]) => [k, Math.round((v / size) * 100) / 100]),
    );
    return { mode, vms: size, known, seconds, lag, cpuMsPerVm, systemMsPerVm, hvCallsPerVm, floor, failed };
  } finally {
    await scheduler.stop();
    await members?.stop();
    await checkpointer.stop();
    await core.close();
  }
}
