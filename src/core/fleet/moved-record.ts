// What of a VM moves between hosts with it: its row, disks, NICs, pool membership (with lifetime) and definition.
import type { Database } from "bun:sqlite";
import { getMember, type PoolVmRow } from "../../db/pools.ts";
import { type DiskRow, disksOf, insertVm, type NicRow, nicsOf, type VmRow } from "../../db/vms.ts";

export interface MovedRecord {
  vm: VmRow;
  disks: DiskRow[];
  nics: NicRow[];
  /** Its pool membership (status, owner, lifetime, expiry), or null for a VM of no pool. */
  member: PoolVmRow | null;
  /** The persistent definition, as the source's libvirt holds it (inactive, with secure parts). */
  xml: string;
}

/** The record of `vm` as this host's database holds it. */
export function recordOf(db: Database, vm: VmRow, xml: string): MovedRecord {
  return { vm, disks: disksOf(db, vm.id), nics: nicsOf(db, vm.id), member: getMember(db, vm.name), xml };
}

/** Inserts a record that arrived, in one transaction; a record already here (a retried commit) is left as is. */
export function insertMoved(db: Database, r: MovedRecord): void {
  db.transaction(() => {
    if (db.query("SELECT 1 FROM vms WHERE id = ?").get(r.vm.id) !== null) return;
    insertVm(db, r.vm, r.disks, r.nics);
    db.query("UPDATE vms SET last_host = ? WHERE id = ?").run(r.vm.last_host ?? null, r.vm.id);
    const m = r.member;
    if (m === null) return;
    db.query(
      `INSERT INTO pool_vms (vm_name, vm_id, pool, generation, status, created_at, ready_at, checked_out_at, owner,
         lifetime_hours, expires_at)
       VALUES ($vm_name, $vm_id, $pool, $generation, $status, $created_at, $ready_at, $checked_out_at, $owner,
         $lifetime_hours, $expires_at)`,
    ).run({ ...m } as unknown as Record<string, string | number | null>);
  })();
}
