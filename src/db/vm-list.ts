// The light rows a VM listing starts from: name, revision and what visibility needs, filtered in SQL (exact matches).
import type { Database } from "bun:sqlite";
import type { DiskRow, NicRow, VmRow } from "./vms.ts";

export interface VmListFilter {
  status?: string;
  name?: string;
  project?: string;
  /** Members of this pool (pool_vms.pool, exact). */
  pool?: string;
  /** Owned by this user: its creator, else whoever holds it checked out (exact). */
  owner?: string;
  tagKey?: string;
  /** With tagKey: the tag's exact value; absent: any value. */
  tagValue?: string;
  /** Names after this one (in name order): the page after the one that ended there. */
  after?: string;
}

export interface VmListRow {
  id: string;
  name: string;
  rev: number;
  project: string;
  /** null unless asked for (withOwner): a pool's ready VM, berth's own, made with auth off. */
  owner: string | null;
}

/** The one definition of a VM's owner, as in vm-owners.ts: its creator, else whoever holds it checked out. */
const OWNER = "COALESCE(v.owner, CASE WHEN pv.status = 'checked_out' THEN pv.owner END)";

const WHERE = `(?1 IS NULL OR v.status = ?1) AND (?2 IS NULL OR v.name = ?2) AND (?3 IS NULL OR v.project = ?3)
  AND (?4 IS NULL OR v.name > ?4)
  AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(v.tags) j WHERE j.key = ?5 AND (?6 IS NULL OR j.value = ?6)))`;

/** Without owners or pools to look at, the query never touches pool_vms. */
const PLAIN = `SELECT v.id AS id, v.name AS name, v.rev AS rev, v.project AS project, NULL AS owner
  FROM vms v WHERE ${WHERE} ORDER BY v.name`;

const JOINED = `SELECT v.id AS id, v.name AS name, v.rev AS rev, v.project AS project, ${OWNER} AS owner
  FROM vms v LEFT JOIN pool_vms pv ON pv.vm_name = v.name
  WHERE ${WHERE} AND (?7 IS NULL OR pv.pool = ?7) AND (?8 IS NULL OR ${OWNER} = ?8) ORDER BY v.name`;

/** The VMs matching `f`, by name; owners are read when `withOwner` (or a pool or owner filter) asks for the join. */
export function listVmRows(db: Database, f: VmListFilter, withOwner: boolean): VmListRow[] {
  const args = [
    f.status ?? null,
    f.name ?? null,
    f.project ?? null,
    f.after ?? null,
    f.tagKey ?? null,
    f.tagKey === undefined ? null : (f.tagValue ?? null),
  ];
  if (!withOwner && f.pool === undefined && f.owner === undefined) {
    return db.query(PLAIN).all(...args) as VmListRow[];
  }
  return db.query(JOINED).all(...args, f.pool ?? null, f.owner ?? null) as VmListRow[];
}

/** Full rows of the VMs with these ids, with their disks and NICs: what a cache fills its misses from. */
export function vmRowsByIds(
  db: Database,
  ids: string[],
): { rows: VmRow[]; disks: Map<string, DiskRow[]>; nics: Map<string, NicRow[]> } {
  const disks = new Map<string, DiskRow[]>();
  const nics = new Map<string, NicRow[]>();
  if (ids.length === 0) return { rows: [], disks, nics };
  const list = JSON.stringify(ids);
  const rows = db
    .query("SELECT * FROM vms WHERE id IN (SELECT value FROM json_each(?))")
    .all(list) as VmRow[];
  const diskRows = db
    .query("SELECT * FROM vm_disks WHERE vm_id IN (SELECT value FROM json_each(?)) ORDER BY vm_id, unit")
    .all(list) as DiskRow[];
  groupByVm(diskRows, disks);
  const nicRows = db
    .query("SELECT * FROM vm_nics WHERE vm_id IN (SELECT value FROM json_each(?)) ORDER BY vm_id, idx")
    .all(list) as NicRow[];
  groupByVm(nicRows, nics);
  return { rows, disks, nics };
}

/** Appends each row to its VM's list in `into`, in the rows' order. */
function groupByVm<R extends { vm_id: string }>(rows: R[], into: Map<string, R[]>): void {
  for (const r of rows) {
    const l = into.get(r.vm_id);
    if (l) l.push(r);
    else into.set(r.vm_id, [r]);
  }
}
