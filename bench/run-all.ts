// `bun run bench`: runs every benchmark in sequence, each in its own process; a failure does not stop the rest.
// The env knobs of each (BENCH_*) pass through; BENCH_ONLY="checkout,reads" runs a subset.
const ALL = [
  "checkout",
  "reads",
  "footprint",
  "provision",
  "lag",
  "reconcile",
  "refill",
  "pool-fill",
  "vm-create",
  "tiers",
  "fleet",
];
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const root = new URL("../", import.meta.url).pathname;
const failed: string[] = [];
const t0 = performance.now();
for (const name of ALL.filter((n) => !only || only.includes(n))) {
  console.log(`\n=== bench/${name}.ts ===`);
  const t = performance.now();
  const p = Bun.spawn(["bun", `bench/${name}.ts`], { cwd: root, stdout: "inherit", stderr: "inherit" });
  const code = await p.exited;
  console.log(`=== ${name}: exit ${code} after ${((performance.now() - t) / 1000).toFixed(0)} s ===`);
  if (code !== 0) failed.push(name);
}
console.log(
  `\nall benchmarks: ${((performance.now() - t0) / 1000).toFixed(0)} s; failed: ${failed.join(", ") || "none"}`,
);
process.exit(failed.length === 0 ? 0 : 1);
