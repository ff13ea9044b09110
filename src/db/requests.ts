// pool_requests and pool_request_items tables: on-demand requests for pool VMs and what each was given.
import type { Database } from "bun:sqlite";

export type RequestStatus = "pending" | "ready" | "cancelled" | "failed";

export interface RequestRow {
  id: string;
  /** The token's user who asked; null without auth. */
  owner: string | null;
  status: RequestStatus;
  /** Hours each VM lives once handed out; null means each pool's own lifetime. */
  lifetime_hours: number | null;
  /** Why a failed request failed. */
  error: string | null;
  created_at: string;
  ready_at: string | null;
}

export interface RequestItemRow {
  request_id: string;
  pool: string;
  count: number;
  /** JSON array of the VM names handed out for this pool once the request is ready. */
  vms: string;
}

export function insertRequest(
  db: Database,
  r: Pick<RequestRow, "id" | "owner" | "lifetime_hours" | "created_at">,
  items: { pool: string; count: number }[],
): void {
  db.transaction(() => {
    db.query(
      "INSERT INTO pool_requests (id, owner, status, lifetime_hours, created_at) VALUES (?, ?, 'pending', ?, ?)",
    ).run(r.id, r.owner, r.lifetime_hours, r.created_at);
    const item = db.query("INSERT INTO pool_request_items (request_id, pool, count) VALUES (?, ?, ?)");
    for (const i of items) item.run(r.id, i.pool, i.count);
  })();
}

export function getRequest(db: Database, id: string): RequestRow | null {
  return db.query("SELECT * FROM pool_requests WHERE id = ?").get(id) as RequestRow | null;
}

export function requestItems(db: Database, id: string): RequestItemRow[] {
  return db
    .query("SELECT * FROM pool_request_items WHERE request_id = ? ORDER BY pool")
    .all(id) as RequestItemRow[];
}

/** Pending requests, oldest first (rowid keeps the arrival order of same-millisecond requests): the order served. */
export function pendingRequests(db: Database): RequestRow[] {
  return db
    .query("SELECT * FROM pool_requests WHERE status = 'pending' ORDER BY created_at, rowid")
    .all() as RequestRow[];
}

/** Per pool, how many VMs pending requests still wait for: demand on top of the pool's size. */
export function outstandingByPool(db: Database): Map<string, number> {
  const rows = db
    .query(
      `SELECT i.pool, SUM(i.count) AS n FROM pool_request_items i
       JOIN pool_requests r ON r.id = i.request_id WHERE r.status = 'pending' GROUP BY i.pool`,
    )
    .all() as { pool: string; n: number }[];
  return new Map(rows.map((r) => [r.pool, r.n]));
}

/** Moves a request from one status to another only if it is still in `from`; true when it moved. */
export function moveRequest(
  db: Database,
  id: string,
  from: RequestStatus,
  to: RequestStatus,
  fields: { ready_at?: string; error?: string } = {},
): boolean {
  const r = db
    .query(
      `UPDATE pool_requests SET status = ?, ready_at = COALESCE(?, ready_at), error = COALESCE(?, error)
       WHERE id = ? AND status = ?`,
    )
    .run(to, fields.ready_at ?? null, fields.error ?? null, id, from);
  return r.changes === 1;
}

export function setItemVms(db: Database, id: string, pool: string, vms: string[]): void {
  db.query("UPDATE pool_request_items SET vms = ? WHERE request_id = ? AND pool = ?").run(
    JSON.stringify(vms),
    id,
    pool,
  );
}
