// Keeps each VM's recorded status in step with libvirt's lifecycle events (a guest powering itself off, …).

import type { Database } from "bun:sqlite";
import { vmIdentityByName } from "../../db/vms.ts";
import type { LifecycleEvent } from "../../ffi/constants.ts";
import type { Core } from "../context.ts";
import { recordState, statusOf } from "./power.ts";
import { vmTarget } from "./records.ts";
import { STATE_AFTER, type VmStateMap, vmStates } from "./state-map.ts";

/**
 * Subscribes to the event pump; returns the unsubscribe. An action in progress records its own outcome.
 * The state map is subscribed first, so each event is read through it: an event older than berth's own
 * call (a restart's stop, arriving after its start was answered) leaves the map, and so the row, as it is.
 */
export function trackLifecycle(core: Core): () => void {
  const states = vmStates(core.hv);
  return core.hv.onLifecycle((e) => recordLifecycle(core, states, e));
}

/** Records the state `states` holds for the event's domain once the event is applied, when it moved the VM's status. */
export function recordLifecycle(
  core: Core,
  states: VmStateMap,
  e: { name: string; uuid: string; event: LifecycleEvent },
): void {
  // Checked before the row is read: a refill's creates (locked while they run) send two events each.
  if (!STATE_AFTER[e.event] || core.locks.holder(vmTarget(e.name))) return;
  const state = states.get(e.name);
  if (!state) return;
  const row = vmIdentityByName(core.db, e.name);
  if (!row || row.status === "creating" || row.status === "gone") return;
  if (row.uuid && row.uuid !== e.uuid) return; // a namesake berth does not manage
  if (statusOf(state) === row.status) return;
  recordState(core, row.id, row.name, state);
}

/** How many uuids of berth's domains are remembered, so events that follow a VM's deletion still pass. */
const REMEMBERED = 4096;

/**
 * A predicate that passes lifecycle events of berth's own domains only: a domain with a row in the vms
 * table (and that row's uuid, once known), or one seen that way before its row went. Domains of other
 * tenants or installations on the same libvirtd never reach berth's event bus.
 */
export function berthDomains(db: Database): (e: { name: string; uuid: string }) => boolean {
  const seen = new Set<string>();
  return (e) => {
    // A uuid is one domain's: one seen as berth's needs no read (a VM's later events, and those after its row went).
    if (seen.has(e.uuid)) return true;
    const row = vmIdentityByName(db, e.name);
    if (row && (row.uuid === null || row.uuid === e.uuid)) {
      seen.add(e.uuid);
      // A Set iterates in insertion order: the first one was seen first.
      if (seen.size > REMEMBERED) seen.delete(seen.values().next().value as string);
      return true;
    }
    return false;
  };
}
