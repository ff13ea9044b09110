// A host back after another recovered its VMs: it never starts them, and drops their domains and records (never their RBD disks).
import { arrivalOf, departureOf } from "../../db/fleet-moves.ts";
import { deleteVm, type VmRow, vmByName } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { removeDomain } from "../vms/domain.ts";
import { vmTarget } from "../vms/records.ts";
import { liftOwnFence } from "./fence.ts";
import type { Fleet } from "./fleet.ts";
import { claimOf, type NameClaim } from "./names.ts";

/** The claims of this host's VMs that another host recovered from it: those VMs are no longer this host's. */
async function recoveredAway(fleet: Fleet): Promise<Map<string, NameClaim>> {
  const all = await fleet.etcd.getAll().prefix(fleet.nameKey()).strings();
  const out = new Map<string, NameClaim>();
  for (const [key, raw] of Object.entries(all)) {
    const claim = JSON.parse(raw) as NameClaim;
    if (claim.recovered_from === fleet.name && claim.host !== fleet.name)
      out.set(key.slice(fleet.nameKey().length), claim);
  }
  return out;
}

/**
 * Drops every VM of this host that another host recovered: its domain (stopped first if it runs) and its
 * record go, its disks stay (the RBD images are the recovering host's VM now). Then, with nothing stale left,
 * this host lifts its own Ceph fence. Returns the VMs dropped, and every VM recovered away (dropped or not yet).
 */
export async function dropRecoveredAway(
  core: Core,
  fleet: Fleet,
): Promise<{ dropped: string[]; away: Set<string> }> {
  const away = await recoveredAway(fleet);
  const dropped: string[] = [];
  let left = 0;
  for (const [vm, claim] of away) {
    const row = core.db.query("SELECT * FROM vms WHERE name = ?").get(vm) as VmRow | null;
    if (!row) continue;
    if (core.locks.holder(vmTarget(vm)) !== undefined || departureOf(core.db, vm) || arrivalOf(core.db, vm)) {
      left++;
      continue;
    }
    await removeDomain(core, vm);
    deleteVm(core.db, row.id);
    dropped.push(vm);
    log.warn("fleet: vm recovered by another host while this one was away; dropped here, disks kept", {
      vm,
      host: claim.host,
    });
    core.events.publish("vm.departed", vmTarget(vm), { id: row.id, to: claim.host });
  }
  if (left === 0 && (await safeToLift(core, fleet))) await liftOwnFence(core, fleet);
  return { dropped, away: new Set(away.keys()) };
}

/**
 * The fence may go only while this host is registered (a recovery's transaction, which needs its member key
 * absent, then fails) and, read again after that, no VM recovered away from it is still here.
 */
async function safeToLift(core: Core, fleet: Fleet): Promise<boolean> {
  if (!(await fleet.etcd.get(fleet.hostKey(fleet.name)).exists())) return false;
  for (const vm of (await recoveredAway(fleet)).keys()) if (vmByName(core.db, vm) !== null) return false;
  return true;
}

/** A start on a fleet host: only of a VM whose name this host holds (another host may have recovered it). */
export async function assertHeldHere(core: Core, vm: string): Promise<void> {
  const fleet = core.fleet;
  if (!fleet) return;
  const claim = await claimOf(fleet, vm);
  if (claim && claim.host !== fleet.name)
    throw new Conflict(`vm ${vm} belongs to host ${claim.host} now: this host does not start it`);
}
