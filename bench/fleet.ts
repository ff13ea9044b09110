// Fleet benchmarks on the fleet tests' topology (test/fleet/support), each beside its floor from the same run:
// live migration of the tiny guest under TCG (berth's time beside libvirt's own job time; downtime seen from outside by
// polling the guest's HTTP inside both hosts' namespaces, beside libvirt's "Total downtime"), create latency with the
// etcd name claim beside a berth without [fleet] on the same host, and a fleet-pool checkout beside a single-host one.
// Usage: BERTH_FLEET_NET=10.N bun bench/fleet.ts (root; etcd-server, libvirt, qemu as the fleet tests need).
// Knobs: BENCH_FLEET_CREATES=20, BENCH_FLEET_CHECKOUTS=8 (the single host's pool holds as many: within 2 CPUs × 4), BENCH_FLEET_MIGRATIONS=4 (alternately a→b, b→a),
// BENCH_FLEET_POLL_MS=20. Exit 1 if a checkout handed out a VM twice. Writes bench/results/fleet.json.
import { BerthNode } from "../test/fleet/support/berth-node.ts";
import { FleetClient, fleetWithClients } from "../test/fleet/support/client.ts";
import { type Host, runningGuestOnA, tinyGuestEverywhere } from "../test/fleet/support/moves.ts";
import { run, until } from "../test/fleet/support/run.ts";
import { usersToml } from "../test/fleet/support/topology.ts";
import { envInt, fmt, msCells, printTable, type Table, writeResults } from "./support/report.ts";
import { ratio, summarize } from "./support/stats.ts";

const CREATES = envInt("BENCH_FLEET_CREATES", 20);
const CHECKOUTS = envInt("BENCH_FLEET_CHECKOUTS", 8);
const MIGRATIONS = envInt("BENCH_FLEET_MIGRATIONS", 4);
const POLL_MS = envInt("BENCH_FLEET_POLL_MS", 20);
const SMALL = { cpus: 1, memory_mib: 32, root_disk_gb: 1 };

async function must(c: FleetClient, method: string, path: string, body: unknown, want: number) {
  const r = await c.call(method, path, body, 300_000);
  if (r.status !== want)
    throw new Error(`${method} ${path} on ${c.node.api}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Record<string, unknown>;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** A poller of the guest's HTTP inside one host's namespace: the epoch ms of each answer. */
function poller(ns: string, url: string) {
  const answers: number[] = [];
  const proc = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      ns,
      process.execPath,
      new URL("./support/http-poll.ts", import.meta.url).pathname,
      url,
      String(POLL_MS),
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  void (async () => {
    let rest = "";
    for await (const chunk of proc.stdout) {
      const lines = (rest + new TextDecoder().decode(chunk)).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l) answers.push(Number(l));
    }
  })();
  return { answers, stop: () => proc.kill("SIGTERM") };
}

/** The longest wait between two answers (of either host) in [from, to]: what a client of the guest saw. */
function longestGap(answers: number[], from: number, to: number): number {
  const xs = answers.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < xs.length; i++) gap = Math.max(gap, (xs[i] as number) - (xs[i - 1] as number));
  return gap;
}

/** libvirt's own figures of the migration just completed on the destination (`virsh domjobinfo --completed`). */
function libvirtJob(uri: string, name: string): { elapsedMs: number | null; downtimeMs: number | null } {
  const out = run(["virsh", "-c", uri, "domjobinfo", name, "--completed"], { allowFail: true });
  const ms = (label: string) => {
    const m = new RegExp(`^${label}:\\s+(\\d+)\\s+ms`, "m").exec(out);
    return m ? Number(m[1]) : null;
  };
  return { elapsedMs: ms("Time elapsed"), downtimeMs: ms("Total downtime") };
}

const {
  fleet,
  clients: { adminA: a, adminB: b },
} = await fleetWithClients();
const pollers: ReturnType<typeof poller>[] = [];
// The floor: a berth without [fleet] on host a's own libvirtd, beside the fleet's berth (its own port, data and pool).
const solo = new BerthNode(
  fleet.hosts.a,
  { etcd: [], secret: "", leaseTtlS: 3, prefix: "/berth", usersToml: await usersToml(), pvcListen: "" },
  {
    dir: "berth-solo",
    port: 8471,
    dataPath: "/var/lib/libvirt/berth-solo-data",
    poolPath: "/var/lib/libvirt/berth-solo-pool",
    poolName: "berth-solo",
  },
);
const table: Table = {};
const results: Record<string, unknown> = {
  knobs: { CREATES, CHECKOUTS, MIGRATIONS, POLL_MS },
};
let exit = 0;
try {
  await solo.start();
  const s = await new FleetClient(solo, "admin").login();

  // 1. Create latency: one VM at a time, the fleet's host a (name claimed in etcd) and the single host alternately.
  const fleetCreate: number[] = [];
  const soloCreate: number[] = [];
  // One untimed create on each first: a host's first one also makes its storage pool and opens its connections.
  for (const [c, n, extra] of [
    [a, "wf", { host: "a" }],
    [s, "ws", {}],
  ] as const) {
    await must(
      c,
      "POST",
      "/v1/vms?wait=true",
      { ...SMALL, name: `${n}-${fleet.id}`, start: false, ...extra },
      200,
    );
    await must(c, "DELETE", `/v1/vms/${n}-${fleet.id}?wait=true`, undefined, 200);
  }
  // Each pair is deleted before the next: defined VMs count against the host's vCPU room (2 CPUs here).
  for (let i = 0; i < CREATES; i++) {
    const body = (n: string) => ({ ...SMALL, name: `${n}${i}-${fleet.id}`, start: false });
    fleetCreate.push(
      await timed(() => must(a, "POST", "/v1/vms?wait=true", { ...body("cf"), host: "a" }, 200)),
    );
    soloCreate.push(await timed(() => must(s, "POST", "/v1/vms?wait=true", body("cs"), 200)));
    await must(a, "DELETE", `/v1/vms/cf${i}-${fleet.id}?wait=true`, undefined, 200);
    await must(s, "DELETE", `/v1/vms/cs${i}-${fleet.id}?wait=true`, undefined, 200);
  }
  const fc = summarize(fleetCreate);
  const sc = summarize(soloCreate);
  table["create, fleet (etcd claim)"] = msCells(fc);
  table["create, single host"] = msCells(sc);
  results.create = { fleet: fc, single: sc, ratio_median: ratio(fc.median, sc.median) };

  // 2. Checkout of one VM at a time at host a: a fleet pool (half the stock on each host) vs a single host's pool.
  const half = Math.max(1, Math.ceil(CHECKOUTS / 2));
  for (const c of [a, b, s]) await must(c, "POST", "/v1/profiles", { name: "bp", ...SMALL }, 201);
  for (const c of [a, b])
    await must(c, "POST", "/v1/pools", { name: "bfp", profile: "bp", size: half, fleet: true }, 201);
  await must(s, "POST", "/v1/pools", { name: "bsp", profile: "bp", size: CHECKOUTS }, 201);
  await until(
    async () =>
      ((await a.call("GET", "/v1/fleet/pools/bfp")).body as { ready: number }).ready >= 2 * half &&
      ((await s.call("GET", "/v1/pools/bsp")).body as { counts: { ready: number } }).counts.ready >=
        CHECKOUTS,
    900_000,
    "both pools to be full",
  );
  const fleetCo: number[] = [];
  const soloCo: number[] = [];
  const taken = { fleet: [] as string[], single: [] as string[] };
  const byHost: Record<string, number> = {};
  const take = async (c: FleetClient, pool: string, into: number[], names: string[]) => {
    const t0 = performance.now();
    const vms = (await must(c, "POST", "/v1/checkout", { [pool]: 1 }, 200)).vms as {
      name: string;
      host?: string;
    }[];
    into.push(performance.now() - t0);
    for (const v of vms) {
      names.push(v.name);
      if (v.host) byHost[v.host] = (byHost[v.host] ?? 0) + 1;
    }
  };
  for (let i = 0; i < CHECKOUTS; i++) {
    await take(a, "bfp", fleetCo, taken.fleet);
    await take(s, "bsp", soloCo, taken.single);
  }
  const names = [...taken.fleet, ...taken.single];
  const twice = names.length - new Set(names).size;
  if (twice > 0) {
    console.error(`${twice} VM(s) handed out twice`);
    exit = 1;
  }
  // Nothing of these pools may run beside the migrations: the pools go, and the VMs checked out of them.
  for (const c of [a, b]) await c.call("DELETE", "/v1/pools/bfp");
  await s.call("DELETE", "/v1/pools/bsp");
  for (const n of taken.fleet) await must(a, "DELETE", `/v1/vms/${n}?wait=true`, undefined, 200);
  for (const n of taken.single) await must(s, "DELETE", `/v1/vms/${n}?wait=true`, undefined, 200);
  const none = async (c: FleetClient) => ((await c.call("GET", "/v1/vms")).body as unknown[]).length === 0;
  await until(async () => (await none(a)) && (await none(s)), 300_000, "the pools' VMs to be deleted");
  const fco = summarize(fleetCo);
  const sco = summarize(soloCo);
  table["checkout, fleet pool"] = msCells(fco);
  table["checkout, single host"] = msCells(sco);
  results.checkout = {
    fleet: fco,
    single: sco,
    fleet_taken_by_host: byHost,
    handed_out_twice: twice,
    ratio_median: ratio(fco.median, sco.median),
  };
  await solo.stop();

  // 3. Live migration of a running tiny guest, back and forth, polled from inside both hosts' namespaces.
  await tinyGuestEverywhere(a, b);
  const name = `bm-${fleet.id}`;
  const { ip } = await runningGuestOnA(a, name);
  for (const h of ["a", "b"] as Host[]) pollers.push(poller(fleet.net.ns[h] as string, `http://${ip}:8080/`));
  await Bun.sleep(3000);
  const answers = () => pollers.flatMap((p) => p.answers);
  const steadyGap = longestGap(answers(), Date.now() - 2500, Date.now());
  const moves: Record<string, number | null>[] = [];
  for (let m = 0; m < MIGRATIONS; m++) {
    const to: Host = m % 2 === 0 ? "b" : "a";
    const t0 = Date.now();
    const done = await must(a, "POST", `/v1/vms/${name}/migrate?wait=true`, { host: to }, 200);
    const t1 = Date.now();
    const result = done.result as { elapsed_ms: number; live: boolean };
    if (!result.live) throw new Error("the migration was not live");
    const job = libvirtJob(fleet.hosts[to].uri, name);
    await Bun.sleep(3000); // the guest answers from its new host; the gap closes
    moves.push({
      "berth ms": result.elapsed_ms,
      "request ms": t1 - t0,
      "libvirt job ms": job.elapsedMs,
      "libvirt downtime ms": job.downtimeMs,
      "outside gap ms": Math.round(longestGap(answers(), t0 - 1000, t1 + 3000)),
    });
  }
  const col = (k: string) => moves.map((r) => r[k]).filter((x): x is number => typeof x === "number");
  const berthMs = summarize(col("berth ms"));
  const jobMs = summarize(col("libvirt job ms"));
  const downMs = summarize(col("libvirt downtime ms"));
  const gapMs = summarize(col("outside gap ms"));
  moves.forEach((r, i) => {
    table[`migration ${i + 1} (${i % 2 === 0 ? "a→b" : "b→a"})`] = r as Record<string, number>;
  });
  results.migration = {
    moves,
    steady_gap_ms: steadyGap,
    berth: berthMs,
    libvirt_job: jobMs,
    libvirt_downtime: downMs,
    outside_gap: gapMs,
    ratio_berth_to_libvirt_job: ratio(berthMs.median, jobMs.median),
    ratio_outside_gap_to_libvirt_downtime: ratio(gapMs.median, downMs.median),
  };
  printTable("fleet: create, checkout (ms)", Object.fromEntries(Object.entries(table).slice(0, 4)));
  printTable(
    "fleet: live migration of the tiny guest (TCG)",
    Object.fromEntries(Object.entries(table).slice(4)),
  );
  console.log(`
ratios (median):
  create with an etcd claim / single host       ${fmt(ratio(fc.median, sc.median), 2)}
  fleet-pool checkout / single-host checkout    ${fmt(ratio(fco.median, sco.median), 2)}
  berth's migration / libvirt's job             ${fmt(ratio(berthMs.median, jobMs.median), 2)}
  outside gap / libvirt's downtime              ${fmt(ratio(gapMs.median, downMs.median), 2)} (longest gap between answers when nothing moves: ${fmt(steadyGap, 0)} ms, polled every ${POLL_MS} ms)`);
  await must(a, "DELETE", `/v1/vms/${name}?wait=true`, undefined, 200);
  writeResults("fleet", results);
} catch (e) {
  console.error(e);
  exit = 1;
} finally {
  for (const p of pollers) p.stop();
  await solo.stop();
  await fleet.down();
}
process.exit(exit);
