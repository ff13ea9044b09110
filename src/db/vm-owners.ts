// Who holds a checked-out VM: reads the owner column of pool_vms (migration 4), for ownership and quotas.
import type { Database } from "bun:sqlite";

/** The owner of the VM named exactly `vmName`, or null when it has none (not checked out, or anonymous). */
export function ownerOfVm(db: Database, vmName: string): string | null {
  const row = db.query("SELECT owner FROM pool_vms WHERE vm_name = ?").get(vmName) as {
    owner: string | null;
  } | null;
  return row?.owner ?? null;
}

/** How many checked-out VMs `user` holds now. */
export function countOwnedVms(db: Database, user: string): number {
  const row = db
    .query("SELECT count(*) AS n FROM pool_vms WHERE owner = ? AND status = 'checked_out'")
    .get(user) as { n: number };
  return row.n;
}
