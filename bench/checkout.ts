// Checkout under load with wrk against a real `berth serve` on test:///default, beside the floors measured in the
// same run (GET /v1/sizes, and a minimal Bun server doing one SQLite write transaction per request), with ratios.
// Usage: bun bench/checkout.ts   (env BENCH_CONCURRENCY="1,16,128", BENCH_CHECKOUTS="500,2000,6000",
//   BENCH_REFILL=300 (0 skips the refill phase), BENCH_REFILL_CHECKOUTS=500, BENCH_WRK_SECONDS=5; needs wrk). Exit 1 if a VM was handed out twice.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startBerthProcess } from "./support/berth-process.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { seedTinyProfile, testDriverToml, waitPoolReady } from "./support/test-driver.ts";
import { type CheckoutRun, type WrkRun, wrkCheckouts, wrkTimed } from "./support/wrk-load.ts";

const levels = envList("BENCH_CONCURRENCY", [1, 16, 128]);
const counts = envList("BENCH_CHECKOUTS", [500, 2000, 6000]);
const refillSize = envInt("BENCH_REFILL", 300);
const refillCheckouts = envInt("BENCH_REFILL_CHECKOUTS", 500);
const seconds = envInt("BENCH_WRK_SECONDS", 5);
const POOL = "bench-co";
const REFILLING = "bench-refill";
const countAt = (i: number) => counts[i] ?? counts.at(-1) ?? 500;
// wrk answers past a thread's quota (and drops some in flight when it stops): room for one round per client.
const poolSize = levels.reduce((n, c, i) => n + countAt(i) + 2 * c, 0) + refillCheckouts + 50;

const row = (r: WrkRun) => ({
  "req/s": fmt(r.rps, 0),
  "p50 ms": fmt(r.p50, 2),
  "p99 ms": fmt(r.p99, 2),
  "run s": fmt(r.requests / r.rps, 2),
});

/** The one-write floor in a process of its own, like berth. */
async function startFloor(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "berth-floor-"));
  const proc = Bun.spawn(
    ["bun", new URL("./support/floor-server.ts", import.meta.url).pathname, String(port), dir],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = proc.stdout.getReader();
  const first = await reader.read();
  if (!new TextDecoder().decode(first.value).includes("listening"))
    throw new Error("floor server did not start");
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

const table: Table = {};
const handedOut: string[] = [];
const floorWrite = new Map<number, WrkRun>();
/** The floor at one client for all of BENCH_WRK_SECONDS, like the timed GET runs: long enough to meet the host's stalls. */
let floorTimed: WrkRun | null = null;
const floorRead = new Map<number, WrkRun>();
const checkouts = new Map<number, CheckoutRun>();
let refilling: (CheckoutRun & { readyBefore: number; readyAfter: number }) | null = null;
let checkedOutInPool = 0;

const floor = await startFloor();
try {
  for (const c of levels) {
    const r = await wrkCheckouts(floor.url, { [POOL]: 1 }, c, countAt(levels.indexOf(c)), seconds);
    floorWrite.set(c, r);
    table[`floor: one write tx/request c=${c}`] = row(r);
  }
  floorTimed = await wrkCheckouts(floor.url, { [POOL]: 1 }, 1, 0, seconds);
  table[`floor: one write tx/request c=1 for ${seconds} s`] = row(floorTimed);
} finally {
  await floor.stop();
}

// Pool VMs are made by the scheduler at up to 64 at once; its passes run on berth's HTTP thread.
const berth = await startBerthProcess({ toml: testDriverToml() });
const { api } = berth;
try {
  const profile = await seedTinyProfile(api, "bench");
  await api.expect("POST", "/v1/pools", 201, { name: POOL, profile, size: poolSize, ready_check: "running" });
  const fillMs = await waitPoolReady(api, POOL, poolSize);
  console.log(
    `pool of ${poolSize} ready VMs filled in ${(fillMs / 1000).toFixed(1)} s on test:///default; berth RSS ${fmt(berth.rssMiB())} MiB`,
  );
  // The checkout pool must not refill behind the steady runs: its profile now asks for a root disk larger
  // than the test driver's 100 GiB storage pool, so each scheduler pass fails one create at once (no libvirt work).
  await api.expect("PATCH", `/v1/profiles/${profile}`, 200, { root_disk_gb: 1000 });
  for (const c of levels) {
    const read = await wrkTimed(`${berth.url}/v1/sizes`, c, seconds);
    floorRead.set(c, read);
    table[`floor: GET /v1/sizes c=${c}`] = row(read);
  }
  for (const [i, c] of levels.entries()) {
    const r = await wrkCheckouts(`${berth.url}/v1/checkout`, { [POOL]: 1 }, c, countAt(i), seconds);
    checkouts.set(c, r);
    handedOut.push(...r.names);
    table[`POST /v1/checkout c=${c}`] = { ...row(r), refused: JSON.stringify(r.refused) };
  }
  // A second pool, empty and refilling (its own tiny profile), while one client checks out of the first.
  if (refillSize > 0) {
    const refillProfile = await seedTinyProfile(api, "bench-rf");
    await api.expect("POST", "/v1/pools", 201, { name: REFILLING, profile: refillProfile, size: refillSize });
    const readyOf = async () =>
      (await api.expect("GET", `/v1/pools/${REFILLING}`, 200)).body.counts.ready as number;
    // The scheduler wakes 100 ms after the pool appears: measure once its creates are under way.
    while ((await api.expect("GET", `/v1/pools/${REFILLING}`, 200)).body.counts.pending === 0)
      await Bun.sleep(5);
    const readyBefore = await readyOf();
    const r = await wrkCheckouts(`${berth.url}/v1/checkout`, { [POOL]: 1 }, 1, refillCheckouts, seconds);
    const readyAfter = await readyOf();
    refilling = { ...r, readyBefore, readyAfter };
    handedOut.push(...r.names);
    table[`POST /v1/checkout c=1 while ${REFILLING} refills`] = {
      ...row(r),
      refused: JSON.stringify(r.refused),
    };
  }
  checkedOutInPool = (await api.expect("GET", `/v1/pools/${POOL}`, 200)).body.counts.checked_out;
} finally {
  await berth.stop();
}

printTable("checkout with wrk (berth serve on test:///default, one VM per checkout) and the floors", table);
const distinct = new Set(handedOut).size;
// Answered more often than SQLite moved VMs to checked_out would also mean a VM went to two callers.
const twice = Math.max(handedOut.length - distinct, distinct - checkedOutInPool);
console.log(
  `${handedOut.length} VMs answered, ${distinct} distinct, ${checkedOutInPool} checked out in SQLite: ${twice === 0 ? "none handed out twice" : `${twice} HANDED OUT TWICE`}`,
);
const top = levels.at(-1) ?? 128;
const ratios: Record<string, string> = {};
for (const c of levels) {
  const co = checkouts.get(c);
  const fw = floorWrite.get(c);
  const fr = floorRead.get(c);
  if (!co || !fw || !fr) continue;
  ratios[`c=${c} checkout / one-write floor`] = fmt(co.rps / fw.rps, 2);
  ratios[`c=${c} checkout / GET /v1/sizes`] = fmt(co.rps / fr.rps, 2);
}
const topRun = checkouts.get(top);
const topFloor = floorWrite.get(top);
if (topRun && topFloor) {
  console.log(
    `target c=${top}: checkout >= 0.8x the one-write floor: ${fmt(topRun.rps / topFloor.rps, 2)}x; p99 <= 10 ms: ${fmt(topRun.p99, 2)} ms`,
  );
}
const oneFloor = floorWrite.get(1);
if (refilling && oneFloor) {
  ratios["c=1 checkout p99 while refilling / floor p99"] = fmt(refilling.p99 / oneFloor.p99, 2);
  // What the refill itself adds, apart from berth's own one-client tail (wrk's p99 at c=1 counts the time the
  // server stalled: each answer slower than the run's mean interval adds corrected samples, one per interval).
  const quiet = checkouts.get(1);
  const read = floorRead.get(1);
  if (quiet)
    ratios["c=1 checkout p99 while refilling / without a refill"] = fmt(refilling.p99 / quiet.p99, 2);
  if (read)
    ratios["c=1 checkout p99 while refilling / berth's GET /v1/sizes p99"] = fmt(refilling.p99 / read.p99, 2);
  // Like with like: p99 over runs of the same length (a count-based run at one client lasts a fraction of a
  // second, and may or may not meet the host's periodic stalls).
  if (floorTimed) {
    ratios[`c=1 checkout p99 while refilling / floor p99 over ${seconds} s`] = fmt(
      refilling.p99 / floorTimed.p99,
      2,
    );
    if (read)
      ratios[`c=1 GET /v1/sizes p99 / floor p99, both over ${seconds} s`] = fmt(read.p99 / floorTimed.p99, 2);
  }
  console.log(
    `target c=1 while ${REFILLING} refills (ready ${refilling.readyBefore} -> ${refilling.readyAfter} of ${refillSize} during the run): checkout p99 ${fmt(refilling.p99, 2)} ms <= 2x the floor's: ${floorTimed ? `${fmt(refilling.p99 / floorTimed.p99, 2)}x its ${fmt(floorTimed.p99, 2)} ms over ${seconds} s; ` : ""}${fmt(refilling.p99 / oneFloor.p99, 2)}x its ${fmt(oneFloor.p99, 2)} ms over its ${fmt(oneFloor.requests / oneFloor.rps, 2)} s count-based run`,
  );
}
console.table(ratios);
const plain = (m: Map<number, WrkRun>) =>
  Object.fromEntries([...m].map(([c, r]) => [c, { ...r, names: undefined }]));
writeResults("checkout", {
  transport:
    "wrk over a real socket; berth serve (bun src/main.ts) on test:///default; floor server bench/support/floor-server.ts",
  poolSize,
  handedOut: handedOut.length,
  distinct,
  checkedOutInPool,
  floorWrite: plain(floorWrite),
  floorRead: plain(floorRead),
  checkout: plain(checkouts),
  refilling: refilling && { ...refilling, names: undefined },
  ratios,
});
process.exit(twice === 0 ? 0 : 1);
