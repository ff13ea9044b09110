// What berth's VMs hold together: vCPUs, memory and disk virtual sizes of every VM that is not gone.
import type { Database } from "bun:sqlite";

export interface Allocation {
  vcpus: number;
  memory_mib: number;
  /** Bytes: virtual sizes of the VMs' own disks (cdroms are shared ISOs or small config drives) and of PVC volumes. */
  disk_bytes: number;
}

/** Sums over every VM not `gone`, leaving out `exceptVmId` (a VM whose own shape is being replaced). */
export function allocation(db: Database, exceptVmId: string | null = null): Allocation {
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
  // Volumes made through PVC's storage API take the same pool's space (once: a VM's disk is counted above).
  const pvc = db
    .query(
      `SELECT coalesce(sum(p.size), 0) AS bytes FROM pvc_volumes p
       WHERE NOT EXISTS (SELECT 1 FROM vm_disks d JOIN vms v ON v.id = d.vm_id
                         WHERE v.status != 'gone' AND d.device = 'disk' AND d.volume = p.volume)`,
    )
    .get() as { bytes: number };
  return { vcpus: vm.vcpus, memory_mib: vm.memory_mib, disk_bytes: disk.bytes + pvc.bytes };
}
