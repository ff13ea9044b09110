// Scrape-time gauges from the database: VMs by state, pools' failures and draining VMs, each owner's usage.
import { listMembers, listPoolRows } from "../../db/pools.ts";
import { usageByOwner } from "../../db/vm-owners.ts";
import { VM_STATUSES } from "../../db/vms.ts";
import { usersOf } from "../auth/users.ts";
import type { Core } from "../context.ts";
import type { Exposition } from "./exposition.ts";

export function renderStateMetrics(e: Exposition, core: Core, perUser: boolean): void {
  // Every state a VM record has is reported, 0 when no VM is in it.
  const byState = new Map<string, number>(VM_STATUSES.map((s) => [s, 0]));
  const rows = core.db.query("SELECT status, count(*) AS n FROM vms GROUP BY status").all() as {
    status: string;
    n: number;
  }[];
  for (const r of rows) byState.set(r.status, r.n);
  e.family("berth_vms", "berth's VMs by recorded state", "gauge");
  for (const [state, n] of byState) e.sample("berth_vms", { state }, n);

  const pools = listPoolRows(core.db);
  const draining = new Map<string, number>(pools.map((p) => [p.name, 0]));
  for (const m of listMembers(core.db)) {
    if (m.status === "draining") draining.set(m.pool, (draining.get(m.pool) ?? 0) + 1);
  }
  e.family(
    "berth_pool_failures",
    "VMs of a pool that failed to become ready (since the pool was made)",
    "gauge",
  );
  for (const p of pools) e.sample("berth_pool_failures", { pool: p.name }, p.failures);
  e.family(
    "berth_pool_draining",
    "VMs of a pool being removed (an old recipe, a reset, a dropped pool)",
    "gauge",
  );
  for (const [pool, n] of draining) e.sample("berth_pool_draining", { pool }, n);

  if (!perUser) return;
  // Every declared user is reported (0 when they hold nothing), and any other owner berth has recorded.
  const usage = new Map<string, { vms: number; vcpus: number; memory_mib: number }>();
  if (core.config.auth.enabled)
    for (const name of usersOf(core.config).keys()) usage.set(name, { vms: 0, vcpus: 0, memory_mib: 0 });
  for (const u of usageByOwner(core.db)) usage.set(u.owner, u);
  const families = [
    [
      "berth_user_vms",
      "VMs an owner holds (created or checked out, not gone)",
      (u: { vms: number }) => u.vms,
    ],
    ["berth_user_vcpus", "vCPUs of the VMs an owner holds", (u: { vcpus: number }) => u.vcpus],
    [
      "berth_user_memory_bytes",
      "memory of the VMs an owner holds, in bytes",
      (u: { memory_mib: number }) => u.memory_mib * 1024 * 1024,
    ],
  ] as const;
  for (const [name, help, value] of families) {
    e.family(name, help, "gauge");
    for (const [owner, u] of usage) e.sample(name, { owner }, value(u as never));
  }
}
