// What each user holds on other fleet hosts, as this host last read the quota ledger: the synchronous quota check adds it.
import { vmByName } from "../../db/vms.ts";
import type { Usage } from "../auth/quota.ts";
import type { Core } from "../context.ts";

/** What one VM charges its owner (its ledger entry). */
export type Charge = Omit<Usage, "vms">;

const byCore = new WeakMap<Core, Map<string, Map<string, Charge>>>();

/**
 * The user's VMs that other hosts hold, from the last ledger read (nothing on a single host). A VM with a row here
 * by now (it arrived, or this host's create recorded it) is left out: this host's own usage counts it.
 */
export function heldElsewhere(core: Core, user: string): Usage {
  const held: Usage = { vms: 0, vcpus: 0, memory_mib: 0, disk_bytes: 0 };
  for (const [vm, c] of byCore.get(core)?.get(user) ?? []) {
    if (vmByName(core.db, vm) !== null) continue;
    held.vms += 1;
    held.vcpus += c.vcpus;
    held.memory_mib += c.memory_mib;
    held.disk_bytes += c.disk_bytes;
  }
  return held;
}

/** Replaces the whole picture (after a full ledger read: every user's entries by VM), or one user's. */
export function noteHeldElsewhere(
  core: Core,
  entries: Map<string, Map<string, Charge>>,
  user?: string,
): void {
  if (user === undefined) {
    byCore.set(core, entries);
    return;
  }
  const all = byCore.get(core) ?? new Map<string, Map<string, Charge>>();
  all.set(user, entries.get(user) ?? new Map());
  byCore.set(core, all);
}

/** Adds one VM to a user's picture (a reservation this host just committed). */
export function noteReserved(core: Core, user: string, vm: string, charge: Charge): void {
  const all = byCore.get(core) ?? new Map<string, Map<string, Charge>>();
  const mine = all.get(user) ?? new Map<string, Charge>();
  mine.set(vm, charge);
  all.set(user, mine);
  byCore.set(core, all);
}

/** The users whose picture holds `vm`. */
export function ownersOf(core: Core, vm: string): string[] {
  return [...(byCore.get(core) ?? [])].filter(([, mine]) => mine.has(vm)).map(([user]) => user);
}

/** Forgets `user`'s `vm` (its entry was deleted). */
export function forgetReserved(core: Core, user: string, vm: string): void {
  byCore.get(core)?.get(user)?.delete(vm);
}
