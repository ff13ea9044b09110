// Time for a pool of tiny guests to become ready from empty on real libvirtd (readiness tcp:8080).
// Usage: bun bench/pool-fill.ts [size]   (root; libvirtd running). Writes bench/results/pool-fill.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { startPoolScheduler } from "../src/scheduler/pools.ts";
import { tinyPoolEnv } from "../test/integration/support/tiny-pool.ts";

const size = Number(process.argv[2] ?? 4);
const env = await tinyPoolEnv(`bfill-${process.pid}`, "192.168.221.0/24", "[scheduler]\ninterval_s = 1\n");
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
  console.log(
    `pool of ${size} tiny guests (TCG, max_concurrent_creates ${limit}), seconds from empty until each VM is ready:`,
  );
  console.table(readyAt.map((s, i) => ({ vm: i + 1, "ready after s": s.toFixed(1) })));
  mkdirSync(new URL("results", import.meta.url), { recursive: true });
  writeFileSync(
    new URL("results/pool-fill.json", import.meta.url),
    JSON.stringify(
      { at: new Date().toISOString(), size, maxConcurrentCreates: limit, readyAfterSeconds: readyAt },
      null,
      2,
    ),
  );
} finally {
  await env.teardown();
}
process.exit(0);
