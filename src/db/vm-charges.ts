// What each owned VM of this host charges its owner's quota: one row per VM, for the fleet's quota ledger.
import type { Database } from "bun:sqlite";
import { OWNER, VMS_WITH_LEASES } from "./vm-owners.ts";

/** One VM's charge: its owner, vCPUs, memory and disk bytes (its own disks' virtual sizes). */
export interface VmCharge {
  name: string;
  owner: string;
  vcpus: number;
  memory_mib: number;
  disk_bytes: number;
}

/** Every VM of this host that has an owner and is not gone, with what it charges (one query). */
export function chargesOfVms(db: Database): VmCharge[] {
  return db
    .query(
      `SELECT v.name AS name, ${OWNER} AS owner, v.vcpus AS vcpus, v.memory_mib AS memory_mib,
         COALESCE((SELECT sum(d.size) FROM vm_disks d WHERE d.device = 'disk' AND d.vm_id = v.id), 0) AS disk_bytes
       FROM ${VMS_WITH_LEASES} WHERE v.status != 'gone' AND ${OWNER} IS NOT NULL`,
    )
    .all() as VmCharge[];
}

/** The names of this host's VMs that are not gone (a ledger entry of one of them is counted from here, not etcd). */
export function liveVmNames(db: Database): Set<string> {
  const rows = db.query("SELECT name FROM vms WHERE status != 'gone'").all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}
