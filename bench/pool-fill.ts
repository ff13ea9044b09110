// Time for a pool of tiny guests to become ready from empty on real libvirtd (readiness tcp:8080).
// Usage: bun bench/pool-fill.ts [size]   (root; libvirtd running). Writes bench/results/pool-fill.json.
import { startPoolScheduler } from "../src/scheduler/pools.ts";
import { tinyPoolEnv } from "../test/integration/support/tiny-pool.ts";
import { DEFAULT_WORKERS, requireLibvirt } from "./support/libvirt-env.ts";
import { fmt, printTable, writeResults } from "./support/report.ts";

requireLibvirt();
const size = Number(process.argv[2] ?? 4);
const env = await tinyPoolEnv(`bfill-${process.pid}`, "192.168.221.0/24", "[scheduler]\ninterval_s = 1\n", {
  workers: DEFAULT_WORKERS,
});
const pool = `bfill-${process.pid}`;
try {
  const r = await env.api.post("/v1/pools", {
    name: pool,
    profile: env.profile,
    size,
    ready_check: "tcp:8080",
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  const t0 = performance.now();
  const scheduler = startPoolScheduler(env.core);
  const readyAt: number[] = [];
  while (readyAt.length < size && performance.now() - t0 < 300_000) {
    const ready = (await env.api.get(`/v1/pools/${pool}`)).body.counts.ready as number;
    while (readyAt.length < ready) readyAt.push((performance.now() - t0) / 1000);
    await Bun.sleep(100);
  }
  await scheduler.stop();
  const limit = env.core.config.scheduler.max_concurrent_creates;
  printTable(
    `pool of ${size} tiny guests (TCG, max_concurrent_creates ${limit}), seconds from empty until each VM is ready`,
    Object.fromEntries(readyAt.map((s, i) => [`vm ${i + 1}`, { "ready after s": fmt(s, 1) }])),
  );
  writeResults("pool-fill", { size, maxConcurrentCreates: limit, readyAfterSeconds: readyAt });
} finally {
  await env.teardown();
}
process.exit(0);
