// The pool VMs a caller may see, with their pool, stock status and lease (owner, expiry): the dashboard's view of checkouts.

import { listMembers } from "../../db/pools.ts";
import type { Caller } from "../auth/caller.ts";
import { vmSight } from "../auth/vm-access.ts";
import type { Core } from "../context.ts";

export interface PoolVmLease {
  vm: string;
  pool: string;
  status: "pending" | "ready" | "checked_out" | "draining";
  /** Who checked it out; null when not checked out, checked out anonymously, or shown in public view. */
  owner: string | null;
  checked_out_at: string | null;
  expires_at: string | null;
}

/** Every pool member whose VM the caller sees (vm-access.ts's rule); its owner only to those who see it whole. */
export function listPoolVmLeases(core: Core, caller: Caller | null): PoolVmLease[] {
  const out: PoolVmLease[] = [];
  for (const m of listMembers(core.db)) {
    const sight = vmSight(core, caller, m.vm_name);
    if (sight === "none") continue;
    out.push({
      vm: m.vm_name,
      pool: m.pool,
      status: m.status,
      owner: sight === "full" ? m.owner : null,
      checked_out_at: m.checked_out_at,
      expires_at: m.expires_at,
    });
  }
  return out;
}
