// What each user holds on other fleet hosts, as this host last read the quota ledger: the synchronous quota check adds it.
import type { Usage } from "../auth/quota.ts";
import type { Core } from "../context.ts";

const NONE: Usage = { vms: 0, vcpus: 0, memory_mib: 0, disk_bytes: 0 };
const byCore = new WeakMap<Core, Map<string, Usage>>();

/** The user's VMs that other hosts hold, from the last ledger read (nothing on a single host). */
export function heldElsewhere(core: Core, user: string): Usage {
  return byCore.get(core)?.get(user) ?? NONE;
}

/** Replaces the whole picture (after a full ledger read), or one user's (after a reservation read it). */
export function noteHeldElsewhere(core: Core, held: Map<string, Usage>, user?: string): void {
  if (user === undefined) {
    byCore.set(core, held);
    return;
  }
  const all = byCore.get(core) ?? new Map<string, Usage>();
  all.set(user, held.get(user) ?? NONE);
  byCore.set(core, all);
}
