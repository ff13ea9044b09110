// Who owns a VM: the user who created it (vms.owner, migration 9) or who checked it out (pool_vms.owner).
import type { Database } from "bun:sqlite";

/** Every VM with its pool membership: the FROM of each query below. */
export const VMS_WITH_LEASES = "vms v LEFT JOIN pool_vms pv ON pv.vm_name = v.name";
/** The one definition of a VM's owner: its creator, else whoever holds it checked out. */
export const OWNER = "COALESCE(v.owner, CASE WHEN pv.status = 'checked_out' THEN pv.owner END)";

/** The owner of the VM named exactly `vmName`, or null (a pool's ready VM, berth's own, made with auth off). */
export function ownerOfVm(db: Database, vmName: string): string | null {
  const row = db.query(`SELECT ${OWNER} AS owner FROM ${VMS_WITH_LEASES} WHERE v.name = ?`).get(vmName) as {
    owner: string | null;
  } | null;
  return row?.owner ?? null;
}

/** Who owns the VM named exactly `vmName` and which project it is in; null when there is no such VM. */
export function accessOfVm(db: Database, vmName: string): { owner: string | null; project: string } | null {
  return db
    .query(`SELECT ${OWNER} AS owner, v.project AS project FROM ${VMS_WITH_LEASES} WHERE v.name = ?`)
    .get(vmName) as { owner: string | null; project: string } | null;
}

/** Every VM's owner by VM name (VMs without one are absent): one query for a whole listing. */
export function ownersByVm(db: Database): Map<string, string> {
  const rows = db
    .query(`SELECT v.name AS name, ${OWNER} AS owner FROM ${VMS_WITH_LEASES} WHERE ${OWNER} IS NOT NULL`)
    .all() as { name: string; owner: string }[];
  return new Map(rows.map((r) => [r.name, r.owner]));
}

/** The VMs `user` owns, each with its project: one query for a whole event stream's start. */
export function projectsOfOwned(db: Database, user: string): Map<string, string> {
  const rows = db
    .query(`SELECT v.name AS name, v.project AS project FROM ${VMS_WITH_LEASES} WHERE ${OWNER} = ?`)
    .all(user) as { name: string; project: string }[];
  return new Map(rows.map((r) => [r.name, r.project]));
}

/** What `user` holds: VMs (created or checked out, not gone), their vCPUs, memory, and disk bytes (with PVC volumes). */
export function usageOf(
  db: Database,
  user: string,
): { vms: number; vcpus: number; memory_mib: number; disk_bytes: number } {
  return db
    .query(
      `WITH owned AS (
         SELECT v.id, v.vcpus, v.memory_mib FROM ${VMS_WITH_LEASES} WHERE v.status != 'gone' AND ${OWNER} = ?1)
       SELECT count(*) AS vms, COALESCE(sum(vcpus), 0) AS vcpus, COALESCE(sum(memory_mib), 0) AS memory_mib,
         COALESCE((SELECT sum(d.size) FROM vm_disks d WHERE d.device = 'disk' AND d.vm_id IN (SELECT id FROM owned)), 0)
           + COALESCE((SELECT sum(p.size) FROM pvc_volumes p WHERE p.owner = ?1), 0)
           AS disk_bytes
       FROM owned`,
    )
    .get(user) as { vms: number; vcpus: number; memory_mib: number; disk_bytes: number };
}

/** Every owner's holding (VMs not gone, their vCPUs and memory): one query for the metrics. */
export function usageByOwner(
  db: Database,
): { owner: string; vms: number; vcpus: number; memory_mib: number }[] {
  return db
    .query(
      `SELECT ${OWNER} AS owner, count(*) AS vms, COALESCE(sum(v.vcpus), 0) AS vcpus,
         COALESCE(sum(v.memory_mib), 0) AS memory_mib
       FROM ${VMS_WITH_LEASES} WHERE v.status != 'gone' AND ${OWNER} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    )
    .all() as { owner: string; vms: number; vcpus: number; memory_mib: number }[];
}
