// operations table: long-running actions with status, progress, error and result.
import type { Database } from "bun:sqlite";

export type OperationStatus = "running" | "succeeded" | "failed" | "cancelled";

export interface OperationRow {
  id: string;
  kind: string;
  target: string;
  status: OperationStatus;
  progress: number;
  message: string;
  error: string | null;
  result: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** The user who started it; null for berth's own work and with auth off. */
  owner: string | null;
}

export function insertOperation(
  db: Database,
  row: Pick<OperationRow, "id" | "kind" | "target" | "created_at" | "owner">,
): void {
  db.query(
    "INSERT INTO operations (id, kind, target, status, created_at, updated_at, owner) VALUES (?, ?, ?, 'running', ?, ?, ?)",
  ).run(row.id, row.kind, row.target, row.created_at, row.created_at, row.owner);
}

export function updateProgress(
  db: Database,
  id: string,
  progress: number,
  message: string,
  at: string,
): void {
  db.query(
    "UPDATE operations SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND status = 'running'",
  ).run(progress, message, at, id);
}

export function finishOperation(
  db: Database,
  id: string,
  status: Exclude<OperationStatus, "running">,
  fields: {
    error?: string | null;
    result?: string | null;
    /** The last progress step, when its own write may not have landed yet. */
    step?: { progress: number; message: string };
  },
  at: string,
): void {
  db.query(
    `UPDATE operations SET status = ?1, error = ?2, result = ?3,
       progress = CASE WHEN ?1 = 'succeeded' THEN 1 ELSE coalesce(?4, progress) END,
       message = coalesce(?5, message), updated_at = ?6, finished_at = ?6 WHERE id = ?7`,
  ).run(
    status,
    fields.error ?? null,
    fields.result ?? null,
    fields.step?.progress ?? null,
    fields.step?.message ?? null,
    at,
    id,
  );
}

export function getOperation(db: Database, id: string): OperationRow | null {
  return db.query("SELECT * FROM operations WHERE id = ?").get(id) as OperationRow | null;
}

export function listOperations(
  db: Database,
  /**
   * `owner`: only operations that user started or that act on a VM the user owns. `projects`: none
   * acting on a VM that is in a project outside these.
   */
  filter: { target?: string; status?: string; owner?: string; projects?: readonly string[]; limit: number },
): OperationRow[] {
  // `target = ?1` only when a target is given: `(?1 IS NULL OR target = ?1)` is a form no index serves.
  const byTarget = filter.target !== undefined ? "target = ?1" : "?1 IS NULL";
  return db
    .query(
      `SELECT * FROM operations WHERE ${byTarget} AND (?2 IS NULL OR status = ?2)
         AND (?4 IS NULL OR owner = ?4
           OR target IN (SELECT 'vm/' || name FROM vms WHERE owner = ?4)
           OR target IN (SELECT 'vm/' || vm_name FROM pool_vms WHERE owner = ?4 AND status = 'checked_out'))
         AND (?5 IS NULL OR target NOT IN
           (SELECT 'vm/' || name FROM vms WHERE project NOT IN (SELECT value FROM json_each(?5))))
       ORDER BY created_at DESC LIMIT ?3`,
    )
    .all(
      filter.target ?? null,
      filter.status ?? null,
      filter.limit,
      filter.owner ?? null,
      filter.projects ? JSON.stringify(filter.projects) : null,
    ) as OperationRow[];
}

/** Operations a crash interrupted: marked failed at start, so nobody waits on them forever. */
export function failInterrupted(db: Database, at: string): number {
  return db
    .query(
      `UPDATE operations SET status = 'failed', updated_at = ?1, finished_at = ?1,
         error = '{"code":"interrupted","message":"berth stopped while this operation ran","status":500}'
       WHERE status = 'running'`,
    )
    .run(at).changes;
}

/** Marks operation `id` failed with `error` if it still runs (its runner is gone); true when it did. */
export function failIfRunning(db: Database, id: string, error: string, at: string): boolean {
  return (
    db
      .query(
        `UPDATE operations SET status = 'failed', error = ?2, updated_at = ?3, finished_at = ?3
         WHERE id = ?1 AND status = 'running'`,
      )
      .run(id, error, at).changes > 0
  );
}

/** The latest operation on `target`, read through the operations_target index (reconcile asks per VM). */
export function lastOperationOn(db: Database, target: string): OperationRow | null {
  return db
    .query("SELECT * FROM operations WHERE target = ? ORDER BY created_at DESC LIMIT 1")
    .get(target) as OperationRow | null;
}

/** True when an operation on `target` is still running (index on target, status). */
export function hasRunningOperation(db: Database, target: string): boolean {
  return (
    db.query("SELECT 1 FROM operations WHERE target = ? AND status = 'running' LIMIT 1").get(target) !== null
  );
}
