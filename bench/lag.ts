// Event-loop lag of berth's HTTP thread while 8 VMs are created and destroyed concurrently on real libvirtd.
// In-process: the app and core run on this thread (libvirt calls go to hypervisor Workers, as in
// `berth serve`), and a 5 ms timer measures how late it fires; API latency is sampled at the same time.
// Then a pool refill of BENCH_LAG_REFILL tiny VMs on libvirt's test driver (1 MiB disks), in-process as well.
// Usage: bun bench/lag.ts   (root; env BENCH_LAG_VMS=8 (0 = skip the storm), BENCH_LAG_ROUNDS=2, BENCH_LAG_REFILL=500)
import { startLagProbe } from "../test/integration/support/lag.ts";
import { libvirtBench } from "./support/libvirt-env.ts";
import { measureRefill, type RefillResult } from "./support/refill.ts";
import { envInt, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { summarize } from "./support/stats.ts";

const vms = envInt("BENCH_LAG_VMS", 8);
const rounds = envInt("BENCH_LAG_ROUNDS", 2);
const refillSize = envInt("BENCH_LAG_REFILL", 500);
const tag = `bl${process.pid}`;

// The refill first: its test-driver core must not share the event loop with the storm's.
const refill: RefillResult | null = refillSize > 0 ? await measureRefill(refillSize, `${tag}r`) : null;
if (refill) {
  printTable(
    "pool refill on test:///default (in-process; targets: lag p99 < 20 ms, HTTP-thread CPU ≤ 0.2 ms per VM)",
    {
      [`refill of ${refill.vms} VMs (readiness running)`]: {
        seconds: fmt(refill.seconds, 1),
        "lag samples": refill.lag.samples,
        "lag p99 ms": fmt(refill.lag.p99, 1),
        "lag max ms": fmt(refill.lag.max, 1),
        "HTTP-thread CPU ms per VM": fmt(refill.cpuMsPerVm, 2),
        "HTTP-thread hv calls per VM": Object.values(refill.hvCallsPerVm)
          .reduce((a, b) => a + b, 0)
          .toFixed(1),
      },
    },
  );
  console.log("HTTP-thread hypervisor calls per VM (creates in the members' Worker):", refill.hvCallsPerVm);
}
if (vms === 0) {
  writeResults("lag", { method: "in-process 5 ms timer on the HTTP thread", refill });
  process.exit(0);
}
const b = await libvirtBench(tag, "192.168.234.0/24");
const { api } = b.env;

/** Samples GET /v1/vms latency every 20 ms until stopped. */
function sampleApi() {
  const xs: number[] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const t = performance.now();
      const r = await api.get("/v1/vms");
      if (r.status !== 200) throw new Error(`GET /v1/vms: ${r.status}`);
      xs.push(performance.now() - t);
      await Bun.sleep(20);
    }
  })();
  return {
    async stop() {
      on = false;
      await done;
      return summarize(xs);
    },
  };
}

async function phase(run: () => Promise<void>) {
  const probe = startLagProbe(5);
  const sampler = sampleApi();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, lag: probe.stop(), api: await sampler.stop() };
}

let idle: Awaited<ReturnType<typeof phase>>;
let storm: Awaited<ReturnType<typeof phase>>;
try {
  idle = await phase(() => Bun.sleep(3000));
  storm = await phase(async () => {
    for (let r = 0; r < rounds; r++) {
      const names = Array.from({ length: vms }, (_, i) => `${tag}-${r}-${i}`);
      const created = await Promise.all(
        names.map((name) => api.post("/v1/vms?wait=true", { name, profile: b.profile })),
      );
      const bad = created.find((c) => c.status !== 200);
      if (bad) throw new Error(`create: ${bad.status} ${JSON.stringify(bad.body)}`);
      await Promise.all(names.map((n) => api.delete(`/v1/vms/${n}?wait=true`)));
    }
  });
} finally {
  await b.teardown();
}
const table: Table = {};
for (const [name, p] of [
  ["idle (3 s)", idle],
  [`storm: ${rounds}× (create ${vms} at once, then delete them)`, storm],
] as const) {
  table[name] = {
    seconds: fmt(p.seconds, 1),
    "lag samples": p.lag.samples,
    "lag p99 ms": fmt(p.lag.p99, 1),
    "lag max ms": fmt(p.lag.max, 1),
    "GET /v1/vms p50 ms": fmt(p.api.p50, 2),
    "GET /v1/vms p99 ms": fmt(p.api.p99, 2),
    "GET /v1/vms max ms": fmt(p.api.max, 2),
  };
}
printTable(
  "event-loop lag of the HTTP thread (5 ms timer, in-process; qemu:///system, TCG; target p99 < 20 ms)",
  table,
);
writeResults("lag", { method: "in-process 5 ms timer on the HTTP thread", vms, rounds, idle, storm, refill });
process.exit(0);
