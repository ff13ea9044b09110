// HTTP-thread CPU per pool VM create, with 500 and 10 000 VMs known, beside floors measured in the same run.
// In-process on libvirt's test driver (as bench/lag.ts's refill): the pool scheduler refills an empty pool of
// BENCH_REFILL_SIZE tiny VMs while a 5 ms timer measures event-loop lag. Floors: one single-row INSERT and
// commit on the same database, and one hypervisor Worker round trip (a ping), each in HTTP-thread CPU.
// Usage: bun bench/refill.ts   (env BENCH_REFILL_KNOWN=500,10000, BENCH_REFILL_SIZE=500)
import { measureRefill, type RefillResult } from "./support/refill.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";

const TARGET_MS = 0.2;
const knowns = envList("BENCH_REFILL_KNOWN", [500, 10_000]);
const size = envInt("BENCH_REFILL_SIZE", 500);

const runs: RefillResult[] = [];
for (const [i, known] of knowns.entries())
  runs.push(await measureRefill(size, `br${process.pid}x${i}`, known));

const table: Table = {};
for (const r of runs) {
  table[`${r.known} known, refill of ${r.vms}`] = {
    "CPU ms per create": fmt(r.cpuMsPerVm, 2),
    "target ms": TARGET_MS,
    "× target": fmt(r.cpuMsPerVm / TARGET_MS, 1),
    "insert+commit ms": fmt(r.floor.insertCommitMs, 3),
    "× insert+commit": fmt(r.cpuMsPerVm / r.floor.insertCommitMs, 1),
    "Worker round trip ms": fmt(r.floor.workerRoundTripMs, 3),
    "hv calls per VM": Object.values(r.hvCallsPerVm)
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
for (const r of runs) console.log(`hypervisor calls per VM (${r.known} known):`, r.hvCallsPerVm);
writeResults("refill", {
  method: "in-process, /proc/self/task/<pid>/stat CPU of the HTTP thread",
  size,
  runs,
});
process.exit(0);
