// Read-only queries over pool history (pool_vms, pool_history, pool_tags, operations) for status and metrics.
import type { Database } from "bun:sqlite";

/** One finished span: the pool, the day (UTC, YYYY-MM-DD) it ended, and its length in seconds. */
export interface Span {
  pool: string;
  day: string;
  seconds: number;
}

/** Every pool VM, live or ended, with when it was recorded and when it became ready. */
const MEMBERS = `
  SELECT vm_name, pool, created_at, ready_at FROM pool_vms
  UNION ALL
  SELECT vm_name, pool, created_at, ready_at FROM pool_history`;

/** Boot: a pool VM's creation to its readiness, for those that became ready in [from, to) (ISO times). */
export function bootSpans(db: Database, from: string, to: string): Span[] {
  return db
    .query(
      `SELECT pool, substr(ready_at, 1, 10) AS day,
              (julianday(ready_at) - julianday(created_at)) * 86400.0 AS seconds
       FROM (${MEMBERS}) WHERE ready_at IS NOT NULL AND ready_at >= ? AND ready_at < ?`,
    )
    .all(from, to) as Span[];
}

/** Clone: a pool VM's create operation, from its start to the VM running, for those finished in [from, to). */
export function cloneSpans(db: Database, from: string, to: string): Span[] {
  return db
    .query(
      `SELECT m.pool AS pool, substr(o.finished_at, 1, 10) AS day,
              (julianday(o.finished_at) - julianday(o.created_at)) * 86400.0 AS seconds
       FROM operations o JOIN (SELECT DISTINCT vm_name, pool FROM (${MEMBERS})) m ON o.target = 'vm/' || m.vm_name
       WHERE o.kind = 'vm.create' AND o.status = 'succeeded'
         AND o.finished_at >= ? AND o.finished_at < ?`,
    )
    .all(from, to) as Span[];
}

/** When each pool's latest VM became ready (ISO time), by pool: vmpooler's lastBoot. */
export function lastBoots(db: Database): Map<string, string> {
  const rows = db
    .query(`SELECT pool, max(ready_at) AS at FROM (${MEMBERS}) WHERE ready_at IS NOT NULL GROUP BY pool`)
    .all() as { pool: string; at: string }[];
  return new Map(rows.map((r) => [r.pool, r.at]));
}

export interface TagCount {
  day: string;
  key: string;
  value: string;
  n: number;
}

/** How many checked-out VMs carried each tag, per day in [fromDay, toDay] (inclusive, YYYY-MM-DD). */
export function tagCounts(db: Database, fromDay: string, toDay: string): TagCount[] {
  return db
    .query(
      `SELECT day, key, value, COUNT(*) AS n FROM pool_tags WHERE day >= ? AND day <= ?
       GROUP BY day, key, value ORDER BY day, key, value`,
    )
    .all(fromDay, toDay) as TagCount[];
}

/** Failed operations, by kind. */
export function failedOperationsByKind(db: Database): { kind: string; n: number }[] {
  return db
    .query("SELECT kind, COUNT(*) AS n FROM operations WHERE status = 'failed' GROUP BY kind ORDER BY kind")
    .all() as { kind: string; n: number }[];
}

export function runningOperations(db: Database): number {
  return (db.query("SELECT COUNT(*) AS n FROM operations WHERE status = 'running'").get() as { n: number }).n;
}
