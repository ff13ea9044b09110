// Test helpers for pools: a core with a small profile, and driving the scheduler until a pool is full.
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { testConfig, testCore } from "../../support/core.ts";

export async function poolCore(prefix: string, extra = "", dataDir?: string) {
  const env: Record<string, string> = dataDir ? { BERTH_DATA_DIR: dataDir } : {};
  const core = await testCore(
    testConfig(`[network]\nmanage_bridges = false\n[storage]\npool = "${prefix}-store"\n${extra}`, env),
  );
  if (!core.db.query("SELECT 1 FROM profiles WHERE name = ?").get(`${prefix}-tiny`)) {
    core.db
      .query("INSERT INTO profiles (name, spec, origin) VALUES (?, ?, 'api')")
      .run(`${prefix}-tiny`, JSON.stringify({ cpus: 1, memory_mib: 64, root_disk_gb: 1 }));
  }
  // Concurrent first uses of a missing storage pool race in ensureStoragePool (both define it): create it first.
  await ensureStoragePool(core);
  return core;
}

/** Waits for every running operation to end. */
export async function settle(core: Core): Promise<void> {
  for (const op of core.ops.list({ status: "running", limit: 1000 })) await core.ops.wait(op.id, 60);
}

/** Ticks (and lets creations finish) until the pool has `ready` ready VMs; bounded. */
export async function fill(core: Core, pool: string, ready: number, now = Date.now()): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await tick(core, now);
    await settle(core);
    if (listMembers(core.db, pool).filter((m) => m.status === "ready").length >= ready) return;
  }
  throw new Error(
    `pool ${pool} did not reach ${ready} ready VMs: ${JSON.stringify(listMembers(core.db, pool))} ${JSON.stringify(await tick(core, now))} ${JSON.stringify(core.ops.list({ status: "failed", limit: 3 }).map((o) => o.error))}`,
  );
}

/** Deletes every VM this core recorded (the test driver's domains are shared by every test file). */
export async function cleanup(core: Core): Promise<void> {
  await settle(core);
  const { deleteVmOp } = await import("../../../src/core/vms/delete.ts");
  const names = core.db.query("SELECT name FROM vms").all() as { name: string }[];
  for (const { name } of names) await core.ops.wait(deleteVmOp(core, SYSTEM, name).id, 60);
}
