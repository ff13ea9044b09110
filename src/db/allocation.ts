// What berth's VMs hold together: vCPUs, memory and disk virtual sizes of every VM that is not gone.
import type { Database } from "bun:sqlite";

export interface Allocation {
  vcpus: number;
  memory_mib: number;
  /** Bytes: virtual sizes of the VMs' own disks (cdroms are shared ISOs or small config drives) and of PVC volumes. */
  disk_bytes: number;
}

/** Volumes made through PVC's storage API take the same pool's space (once: a VM's disk is counted already). */
function pvcBytes(db: Database): number {
  const pvc = db
    .query(
      `SELECT coalesce(sum(p.size), 0) AS bytes FROM pvc_volumes p
       WHERE NOT EXISTS (SELECT 1 FROM vm_disks d JOIN vms v ON v.id = d.vm_id
                         WHERE d.volume = p.volume AND v.status != 'gone' AND d.device = 'disk')`,
    )
    .get() as { bytes: number };
  return pvc.bytes;
}

/**
 * What every VM not `gone` holds, leaving out `exceptVmId`'s vCPUs and memory (a VM whose shape is being
 * replaced). Read from the totals migration 19's triggers keep in step with every write to vms and
 * vm_disks, in the same transaction: one row, however many VMs there are.
 */
export function allocation(db: Database, exceptVmId: string | null = null): Allocation {
  const t = db.query("SELECT vcpus, memory_mib, disk_bytes FROM vm_allocation").get() as Allocation;
  const out = { vcpus: t.vcpus, memory_mib: t.memory_mib, disk_bytes: t.disk_bytes + pvcBytes(db) };
  if (exceptVmId !== null) {
    const own = db
      .query("SELECT vcpus, memory_mib FROM vms WHERE id = ? AND status != 'gone'")
      .get(exceptVmId) as { vcpus: number; memory_mib: number } | null;
    if (own) {
      out.vcpus -= own.vcpus;
      out.memory_mib -= own.memory_mib;
    }
  }
  return out;
}

/** The same by summing every VM: O(VMs), for checking the totals (tests) and never on a request's path. */
export function allocationBySum(db: Database, exceptVmId: string | null = null): Allocation {
  const vm = db
    .query(
      `SELECT coalesce(sum(vcpus), 0) AS vcpus, coalesce(sum(memory_mib), 0) AS memory_mib
       FROM vms WHERE status != 'gone' AND (?1 IS NULL OR id != ?1)`,
    )
    .get(exceptVmId) as { vcpus: number; memory_mib: number };
  const disk = db
    .query(
      `SELECT coalesce(sum(d.size), 0) AS bytes FROM vm_disks d JOIN vms v ON v.id = d.vm_id
       WHERE v.status != 'gone' AND d.device = 'disk'`,
    )
    .get() as { bytes: number };
  return { vcpus: vm.vcpus, memory_mib: vm.memory_mib, disk_bytes: disk.bytes + pvcBytes(db) };
}
