// The live status: per-pool stock, capacity, empty pools, today's clone and boot durations, queue counts.
import { bootSpans, cloneSpans, runningOperations } from "../../db/history.ts";
import { listMembers, listPoolRows } from "../../db/pools.ts";
import type { Core } from "../context.ts";
import { toPoolRecord } from "../pools/records.ts";
import { type DurationStats, durationStats } from "./durations.ts";

const DAY_MS = 86_400_000;

export interface PoolStatus {
  name: string;
  size: number;
  ready: number;
  pending: number;
  /** Checked out. */
  running: number;
  draining: number;
  failures: number;
}

export interface Status {
  ok: boolean;
  message: string;
  pools: PoolStatus[];
  capacity: { current: number; total: number; percent: number };
  /** Pools with no ready VM (a pool of size 0 is never empty). */
  empty: string[];
  clone: DurationStats;
  boot: DurationStats;
  queue: {
    /** Pool VMs not yet ready: cloning (created, not yet running) plus booting (running, not yet ready). */
    pending: number;
    cloning: number;
    booting: number;
    ready: number;
    running: number;
    total: number;
    /** Operations of any kind still running. */
    operations: number;
  };
}

/** The UTC day containing `now` as [start, end) ISO strings. */
export function dayBounds(now: number): [string, string] {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return [new Date(start).toISOString(), new Date(start + DAY_MS).toISOString()];
}

export function poolStatus(core: Core, now: number = Date.now()): Status {
  const members = listMembers(core.db);
  const current = (p: { name: string; generation: number }, status: string) =>
    members.filter((m) => m.pool === p.name && m.generation === p.generation && m.status === status).length;
  const pools = listPoolRows(core.db).map((row): PoolStatus => {
    const p = toPoolRecord(row);
    return {
      name: p.name,
      size: p.spec.size,
      ready: current(p, "ready"),
      pending: current(p, "pending"),
      running: members.filter((m) => m.pool === p.name && m.status === "checked_out").length,
      draining: members.filter((m) => m.pool === p.name && m.status === "draining").length,
      failures: p.failures,
    };
  });
  const empty = pools.filter((p) => p.size > 0 && p.ready === 0).map((p) => p.name);
  const ready = pools.reduce((a, p) => a + p.ready, 0);
  const total = pools.reduce((a, p) => a + p.size, 0);
  const pending = members.filter((m) => m.status === "pending");
  const cloning = pending.filter((m) => m.vm_status !== "running").length;
  const running = members.filter((m) => m.status === "checked_out").length;
  const [from, to] = dayBounds(now);
  return {
    ok: empty.length === 0,
    message: empty.length === 0 ? "every pool has a ready VM" : `Found ${empty.length} empty pools.`,
    pools,
    capacity: { current: ready, total, percent: total === 0 ? 0 : Math.round((ready / total) * 1000) / 10 },
    empty,
    clone: durationStats(cloneSpans(core.db, from, to).map((s) => s.seconds)),
    boot: durationStats(bootSpans(core.db, from, to).map((s) => s.seconds)),
    queue: {
      pending: pending.length,
      cloning,
      booting: pending.length - cloning,
      ready,
      running,
      total: pending.length + ready + running,
      operations: runningOperations(core.db),
    },
  };
}
