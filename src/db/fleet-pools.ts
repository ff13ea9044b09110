// The reads behind fleet pools: this host's ready VMs of pools marked fleet, which it publishes to the fleet.
import type { Database } from "bun:sqlite";

export interface FleetReady {
  vm_name: string;
  pool: string;
  ready_at: string | null;
}

/** Ready members of fleet pools (current generation, VM in its tier's status): what checkout's pick would take here. */
export function fleetReadyMembers(db: Database): FleetReady[] {
  return db
    .query(
      `SELECT pv.vm_name, pv.pool, pv.ready_at FROM pool_vms pv
       JOIN pools p ON p.name = pv.pool JOIN vms v ON v.id = pv.vm_id
       WHERE json_extract(p.spec, '$.fleet') = 1 AND pv.status = 'ready'
         AND pv.generation = p.generation AND v.status = p.ready_vm_status
       ORDER BY pv.ready_at, pv.vm_name`,
    )
    .all() as FleetReady[];
}
