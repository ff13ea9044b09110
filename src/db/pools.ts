// pools and pool_vms tables: pool definitions, and which VM belongs to which pool in which state.
import type { Database } from "bun:sqlite";
import { binaryCompare } from "./binary-order.ts";
import type { Origin } from "./sizes.ts";

export interface PoolRow {
  name: string;
  /** JSON of the pool's definition (every field but the name). */
  spec: string;
  origin: Origin;
  /** Bumped when the recipe changes or the pool is reset: pending and ready VMs of older ones are drained. */
  generation: number;
  /** VMs that failed to become ready. */
  failures: number;
  created_at: string;
  updated_at: string;
}

export type PoolVmStatus = "pending" | "ready" | "checked_out" | "draining";

export interface PoolVmRow {
  vm_name: string;
  /** Null only between recording the membership and the VM's own record (a crash leaves it null). */
  vm_id: string | null;
  pool: string;
  generation: number;
  status: PoolVmStatus;
  created_at: string;
  ready_at: string | null;
  checked_out_at: string | null;
  owner: string | null;
  lifetime_hours: number | null;
  expires_at: string | null;
}

/** A member joined with its VM's recorded status (null when the VM row is gone or not yet there). */
export type PoolMember = PoolVmRow & { vm_status: string | null };

export function insertPool(db: Database, r: PoolRow): void {
  db.query(
    `INSERT INTO pools (name, spec, origin, generation, failures, created_at, updated_at)
     VALUES ($name, $spec, $origin, $generation, $failures, $created_at, $updated_at)`,
  ).run(r as unknown as Record<string, string | number>);
}

export function getPoolRow(db: Database, name: string): PoolRow | null {
  return db.query("SELECT * FROM pools WHERE name = ?").get(name) as PoolRow | null;
}

export function listPoolRows(db: Database, origin?: Origin): PoolRow[] {
  return db
    .query("SELECT * FROM pools WHERE (?1 IS NULL OR origin = ?1) ORDER BY name")
    .all(origin ?? null) as PoolRow[];
}

/** Replaces the definition; `bump` starts a new generation (the old one's spare VMs get drained). */
export function updatePoolSpec(
  db: Database,
  name: string,
  spec: string,
  origin: Origin,
  bump: boolean,
  at: string,
): void {
  db.query(
    "UPDATE pools SET spec = ?, origin = ?, generation = generation + ?, updated_at = ? WHERE name = ?",
  ).run(spec, origin, bump ? 1 : 0, at, name);
}

export function bumpGeneration(db: Database, name: string, at: string): void {
  db.query("UPDATE pools SET generation = generation + 1, updated_at = ? WHERE name = ?").run(at, name);
}

export function countFailure(db: Database, name: string): void {
  db.query("UPDATE pools SET failures = failures + 1 WHERE name = ?").run(name);
}

export function deletePoolRow(db: Database, name: string): void {
  db.query("DELETE FROM pools WHERE name = ?").run(name);
}

/** The pools that have `alias` among their aliases (exact match on an element), by name. */
export function poolsByAlias(db: Database, alias: string): string[] {
  const rows = db
    .query("SELECT p.name FROM pools p, json_each(p.spec, '$.alias') a WHERE a.value = ? ORDER BY p.name")
    .all(alias) as { name: string }[];
  return rows.map((r) => r.name);
}

export function insertMember(
  db: Database,
  m: Pick<PoolVmRow, "vm_name" | "pool" | "generation" | "created_at">,
): void {
  db.query(
    "INSERT INTO pool_vms (vm_name, pool, generation, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
  ).run(m.vm_name, m.pool, m.generation, m.created_at);
}

export function setMemberVmId(db: Database, vmName: string, vmId: string): void {
  db.query("UPDATE pool_vms SET vm_id = ? WHERE vm_name = ?").run(vmId, vmName);
}

export function deleteMember(db: Database, vmName: string): void {
  db.query("DELETE FROM pool_vms WHERE vm_name = ?").run(vmName);
}

export function getMember(db: Database, vmName: string): PoolVmRow | null {
  return db.query("SELECT * FROM pool_vms WHERE vm_name = ?").get(vmName) as PoolVmRow | null;
}

/** Every member (of one pool, or all), with its VM's recorded status. */
export function listMembers(db: Database, pool?: string): PoolMember[] {
  return db
    .query(
      `SELECT pv.*, v.status AS vm_status FROM pool_vms pv LEFT JOIN vms v ON v.id = pv.vm_id
       WHERE (?1 IS NULL OR pv.pool = ?1) ORDER BY pv.created_at, pv.vm_name`,
    )
    .all(pool ?? null) as PoolMember[];
}

/** How many members of `pool` are in each status (one grouped query on the pool_vms_pool index). */
export function memberCounts(db: Database, pool: string): Record<PoolVmStatus, number> {
  const counts: Record<PoolVmStatus, number> = { pending: 0, ready: 0, checked_out: 0, draining: 0 };
  const rows = db
    .query("SELECT status, count(*) AS n FROM pool_vms WHERE pool = ?1 GROUP BY status")
    .all(pool) as { status: PoolVmStatus; n: number }[];
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/**
 * The members a scheduler pass must look at (without the ready members' review): not yet linked to their
 * VM, pending, draining, checked out past `now` or left restoring.
 */
export function membersNeedingAttention(db: Database, now: string): PoolMember[] {
  return db.query(ATTENTION_CHANGED).all(now) as PoolMember[];
}

/**
 * One slice of the full review, in rowid order: of the (at most `limit`) members after rowid `after`, those
 * needing attention as above, plus ready ones whose VM left its tier's status (running, paused, stopped) or
 * whose pool is gone or newer. `next` is the rowid to go on after; null once the slice reached the end.
 */
export function membersNeedingReview(
  db: Database,
  now: string,
  after: number,
  limit: number,
): { members: PoolMember[]; next: number | null } {
  const bound = db
    .query("SELECT rowid AS id FROM pool_vms WHERE rowid > ?1 ORDER BY rowid LIMIT 1 OFFSET ?2")
    .get(after, Math.max(1, limit) - 1) as { id: number } | null;
  const upTo = bound?.id ?? Number.MAX_SAFE_INTEGER;
  const members = db.query(REVIEW_RANGE).all(now, after, upTo) as PoolMember[];
  return { members, next: bound ? bound.id : null };
}

/** The order of ATTENTION_CHANGED (created_at, then name): slices of the review are merged back into it. */
export function byCreated(a: PoolMember, b: PoolMember): number {
  return binaryCompare(a.created_at, b.created_at) || binaryCompare(a.vm_name, b.vm_name);
}

/** A rowid range of members (NOT INDEXED: read in rowid order, so a slice costs its own rows, not the pool's). */
const REVIEW_RANGE = `SELECT pv.*, v.status AS vm_status FROM pool_vms pv NOT INDEXED
  LEFT JOIN vms v ON v.id = pv.vm_id
  LEFT JOIN pools p ON p.name = pv.pool
  WHERE pv.rowid > ?2 AND pv.rowid <= ?3 AND (
        pv.vm_id IS NULL OR pv.status IN ('pending', 'draining')
     OR (pv.status = 'checked_out' AND pv.expires_at <= ?1)
     OR (pv.status = 'checked_out' AND v.status = 'restoring')
     OR (pv.status = 'ready' AND (v.status IS NOT p.ready_vm_status OR p.name IS NULL OR pv.generation != p.generation)))`;

/**
 * Each part through an index (migration 21): what a pass woken by creates and checkouts needs, in time that
 * grows with the members in flux rather than with the pool.
 */
const ATTENTION_CHANGED = `SELECT pv.*, v.status AS vm_status FROM pool_vms pv
  LEFT JOIN vms v ON v.id = pv.vm_id
  WHERE pv.rowid IN (
    SELECT rowid FROM pool_vms WHERE vm_id IS NULL
    UNION SELECT rowid FROM pool_vms WHERE status IN ('pending', 'draining')
    UNION SELECT rowid FROM pool_vms WHERE status = 'checked_out' AND expires_at <= ?1
    UNION SELECT m.rowid FROM vms r JOIN pool_vms m ON m.vm_id = r.id
      WHERE r.status = 'restoring' AND m.status = 'checked_out')
  ORDER BY pv.created_at, pv.vm_name`;

/** A pool's ready members of `generation` that became ready at or before `cutoff` (ready_ttl passed). */
export function readyBefore(db: Database, pool: string, generation: number, cutoff: string): PoolMember[] {
  return db
    .query(
      `SELECT pv.*, v.status AS vm_status FROM pool_vms pv LEFT JOIN vms v ON v.id = pv.vm_id
       WHERE pv.pool = ? AND pv.generation = ? AND pv.status = 'ready' AND pv.ready_at <= ?
       ORDER BY pv.ready_at, pv.vm_name`,
    )
    .all(pool, generation, cutoff) as PoolMember[];
}

/** Per pool and generation, how many members are pending and ready (what refill counts as stock). */
export function stockCounts(db: Database): { pool: string; generation: number; n: number }[] {
  return db
    .query(
      `SELECT pool, generation, count(*) AS n FROM pool_vms
       WHERE status IN ('pending', 'ready') GROUP BY pool, generation`,
    )
    .all() as { pool: string; generation: number; n: number }[];
}

/** The first `limit` members of a pool's generation a surplus drains: ready before pending, the newest first. */
export function surplusMembers(db: Database, pool: string, generation: number, limit: number): PoolMember[] {
  return db
    .query(
      `SELECT pv.*, v.status AS vm_status FROM pool_vms pv LEFT JOIN vms v ON v.id = pv.vm_id
       WHERE pv.pool = ? AND pv.generation = ? AND pv.status IN ('ready', 'pending')
       ORDER BY pv.status = 'ready' DESC, pv.created_at DESC, pv.vm_name LIMIT ?`,
    )
    .all(pool, generation, limit) as PoolMember[];
}

/** Members still pending: the creations in flight are among them. */
export function pendingMembers(db: Database): PoolMember[] {
  return db
    .query(
      `SELECT pv.*, v.status AS vm_status FROM pool_vms pv LEFT JOIN vms v ON v.id = pv.vm_id
       WHERE pv.status = 'pending' ORDER BY pv.created_at, pv.vm_name`,
    )
    .all() as PoolMember[];
}

/** Moves a member from one status to another only if it is still in `from`; true when it moved. */
export function moveMember(
  db: Database,
  vmName: string,
  from: readonly PoolVmStatus[],
  to: PoolVmStatus,
  fields: Partial<Pick<PoolVmRow, "ready_at">> = {},
): boolean {
  const marks = from.map(() => "?").join(", ");
  const r = db
    .query(
      `UPDATE pool_vms SET status = ?, ready_at = COALESCE(?, ready_at)
       WHERE vm_name = ? AND status IN (${marks})`,
    )
    .run(to, fields.ready_at ?? null, vmName, ...from);
  return r.changes === 1;
}

/** The oldest ready VMs of a pool's generation whose VM is in its tier (running, paused, stopped), at most `limit`. */
export function readyMembers(db: Database, pool: string, generation: number, limit: number): string[] {
  return (
    db
      .query(
        `SELECT pv.vm_name FROM pool_vms pv JOIN vms v ON v.id = pv.vm_id
         WHERE pv.pool = ?1 AND pv.generation = ?2 AND pv.status = 'ready'
           AND v.status = (SELECT ready_vm_status FROM pools WHERE name = ?1)
         ORDER BY pv.ready_at, pv.vm_name LIMIT ?3`,
      )
      .all(pool, generation, limit) as { vm_name: string }[]
  ).map((r) => r.vm_name);
}

/** Hands one ready VM out; false when someone else got it first (the WHERE guard). */
export function checkOutMember(
  db: Database,
  vmName: string,
  f: Pick<PoolVmRow, "checked_out_at" | "owner" | "lifetime_hours" | "expires_at">,
): boolean {
  const r = db
    .query(
      `UPDATE pool_vms SET status = 'checked_out', checked_out_at = ?, owner = ?, lifetime_hours = ?, expires_at = ?
       WHERE vm_name = ? AND status = 'ready'`,
    )
    .run(f.checked_out_at, f.owner, f.lifetime_hours, f.expires_at, vmName);
  return r.changes === 1;
}

export function setLifetime(db: Database, vmName: string, hours: number, expiresAt: string): void {
  db.query("UPDATE pool_vms SET lifetime_hours = ?, expires_at = ? WHERE vm_name = ?").run(
    hours,
    expiresAt,
    vmName,
  );
}

/** Members that ended (their row deleted, by anyone) after history row `after`, oldest first. */
export function endedSince(
  db: Database,
  after: number,
): { seq: number; vm_name: string; pool: string; status: PoolVmStatus }[] {
  return db
    .query("SELECT rowid AS seq, vm_name, pool, status FROM pool_history WHERE rowid > ? ORDER BY rowid")
    .all(after) as { seq: number; vm_name: string; pool: string; status: PoolVmStatus }[];
}

export function lastHistorySeq(db: Database): number {
  return (db.query("SELECT COALESCE(MAX(rowid), 0) AS n FROM pool_history").get() as { n: number }).n;
}

/** Changes with every write to pools (migration 17's triggers), committed or not: pool caches compare it. */
export function poolsToken(db: Database): string {
  return (db.query("SELECT token FROM pool_epoch WHERE id = 1").get() as { token: string }).token;
}
