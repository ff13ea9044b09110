// HTTP-thread CPU per pool VM create, with 500 and 10 000 VMs known, beside floors measured in the same run.
// In-process on libvirt's test driver (as bench/lag.ts's refill): the pool scheduler refills an empty pool of
// BENCH_REFILL_SIZE tiny VMs while a 5 ms timer measures event-loop lag. Floors: one single-row INSERT and
// commit on the same database, and one hypervisor Worker round trip (a ping), each in HTTP-thread CPU.
// Each runs twice: creates in the members' Worker (as berth serve makes them), then on the HTTP thread (a fleet
// host's way, and the baseline the Worker is measured against).
// Usage: bun bench/refill.ts   (env BENCH_REFILL_KNOWN=500,10000, BENCH_REFILL_SIZE=500, BENCH_REFILL_MODES=worker,thread)
import { measureRefill, type RefillMode, type RefillResult } from "./support/refill.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";

const TARGET_MS = 0.2;
const knowns = envList("BENCH_REFILL_KNOWN", [500, 10_000]);
const size = envInt("BENCH_REFILL_SIZE", 500);
const modes = (process.env.BENCH_REFILL_MODES ?? "worker,thread").split(",") as RefillMode[];

const runs: RefillResult[] = [];
for (const [i, known] of knowns.entries())
  for (const [j, mode] of modes.entries())
    runs.push(await measureRefill(size, `br${process.pid}x${i}m${j}`, known, mode));
const threadCpu = (known: number) => runs.find((r) => r.known === known && r.mode === "thread")?.cpuMsPerVm;

const table: Table = {};
for (const r of runs) {
  const baseline = threadCpu(r.known);
  table[
    `${r.known} known, refill of ${r.vms}, creates in ${r.mode === "worker" ? "their Worker" : "HTTP thread"}`
  ] = {
    "CPU ms per create": fmt(r.cpuMsPerVm, 2),
    "of which system": fmt(r.systemMsPerVm, 2),
    "target ms": TARGET_MS,
    "× target": fmt(r.cpuMsPerVm / TARGET_MS, 1),
    "× HTTP-thread creates": baseline ? fmt(r.cpuMsPerVm / baseline, 2) : "",
    "insert+commit ms": fmt(r.floor.insertCommitMs, 3),
    "× insert+commit": fmt(r.cpuMsPerVm / r.floor.insertCommitMs, 1),
    "Worker round trip ms": fmt(r.floor.workerRoundTripMs, 3),
    "HTTP-thread hv calls per VM": Object.values(r.hvCallsPerVm)
      .reduce((a, b) => a + b, 0)
      .toFixed(1),
    "failed (replaced)": r.failed,
    "lag p99 ms": fmt(r.lag.p99, 1),
    "lag max ms": fmt(r.lag.max, 1),
    seconds: fmt(r.seconds, 1),
  };
}
printTable(
  `pool refill on test:///default: HTTP-thread CPU per create (target ≤ ${TARGET_MS} ms) and event-loop lag (target p99 < 20 ms)`,
  table,
);
for (const r of runs)
  console.log(`HTTP-thread hypervisor calls per VM (${r.known} known, ${r.mode}):`, r.hvCallsPerVm);
writeResults("refill", {
  method: "in-process, /proc/self/task/<pid>/stat CPU of the HTTP thread",
  size,
  runs,
});
process.exit(0);
