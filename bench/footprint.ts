// Footprint: the compiled binary's size and start-up time, its idle RSS, and its RSS under HTTP load (wrk).
// Usage: bun bench/footprint.ts   (env BENCH_FOOTPRINT_VMS=1000, BENCH_WRK_SECONDS=10; needs wrk)
import { statSync } from "node:fs";
import { startBerthProcess } from "./support/berth-process.ts";
import { forEachLimit } from "./support/load.ts";
import { envInt, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { seedTinyProfile, testDriverToml } from "./support/test-driver.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BINARY = `${ROOT}dist/berth`;
const vms = envInt("BENCH_FOOTPRINT_VMS", 1000);
const wrkSeconds = envInt("BENCH_WRK_SECONDS", 10);

const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
if (build.exitCode !== 0) throw new Error(`bun run build: ${build.stderr.toString()}`);
const binaryMiB = statSync(BINARY).size / 2 ** 20;

interface Wrk {
  rps: number;
  p50ms: number;
  p99ms: number;
}

/** wrk's "--latency" distribution lines ("99%  12.34ms") and "Requests/sec:" total. */
function parseWrk(out: string): Wrk {
  const ms = (q: string) => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (!m) return Number.NaN;
    const scale = m[2] === "us" ? 1e-3 : m[2] === "s" ? 1e3 : 1;
    return Number(m[1]) * scale;
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50ms: ms("50"), p99ms: ms("99") };
}

function wrk(url: string, connections: number): Wrk {
  const r = Bun.spawnSync(["wrk", "-t2", `-c${connections}`, `-d${wrkSeconds}s`, "--latency", url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`wrk: ${r.stderr.toString()}`);
  return parseWrk(r.stdout.toString());
}

const berth = await startBerthProcess({ toml: testDriverToml(), binary: BINARY });
const table: Table = {};
const loads: Record<string, Wrk & { rssMiB: number }> = {};
let idleRssMiB = 0;
let seededRssMiB = 0;
let peakRssMiB = 0;
try {
  await Bun.sleep(2000);
  idleRssMiB = berth.rssMiB();
  const profile = await seedTinyProfile(berth.api, "bench");
  await forEachLimit(
    Array.from({ length: vms }, (_, i) => `fp-${i}`),
    32,
    async (name) => {
      await berth.api.expect("POST", "/v1/vms?wait=true", 200, { name, profile });
    },
  );
  await Bun.sleep(1000);
  seededRssMiB = berth.rssMiB();
  for (const [route, c] of [
    ["/healthz", 64],
    ["/v1/status", 64],
    ["/v1/vms", 16],
  ] as const) {
    const w = wrk(`${berth.url}${route}`, c);
    loads[`GET ${route} c=${c}`] = { ...w, rssMiB: berth.rssMiB() };
  }
  peakRssMiB = berth.peakRssMiB();
} finally {
  await berth.stop();
}
table.binary = { value: `${fmt(binaryMiB, 1)} MiB`, note: "dist/berth (bun run build)" };
table["start → /healthz 200"] = { value: `${fmt(berth.healthyMs, 0)} ms`, note: "binary on test:///default" };
table["idle RSS"] = {
  value: `${fmt(idleRssMiB, 1)} MiB`,
  note: "2 s after start, no VMs (target < 100 MiB)",
};
table[`RSS with ${vms} VMs`] = {
  value: `${fmt(seededRssMiB, 1)} MiB`,
  note: "test driver domains live in-process",
};
for (const [k, w] of Object.entries(loads)) {
  table[`wrk ${k}`] = {
    value: `${fmt(w.rps, 0)} req/s`,
    note: `p50 ${fmt(w.p50ms, 2)} ms, p99 ${fmt(w.p99ms, 2)} ms, RSS after ${fmt(w.rssMiB, 1)} MiB`,
  };
}
table["peak RSS"] = { value: `${fmt(peakRssMiB, 1)} MiB`, note: "VmHWM over the whole run" };
printTable(
  `footprint of the compiled binary (wrk -t2, ${wrkSeconds} s per route, same 2-core machine)`,
  table,
);
writeResults("footprint", {
  binaryMiB,
  startMs: berth.healthyMs,
  idleRssMiB,
  vms,
  seededRssMiB,
  peakRssMiB,
  wrkSeconds,
  loads,
});
process.exit(0);
