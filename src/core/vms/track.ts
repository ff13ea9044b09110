// Keeps each VM's recorded status in step with libvirt's lifecycle events (a guest powering itself off, …).

import { vmByName } from "../../db/vms.ts";
import type { DomainState, LifecycleEvent } from "../../ffi/constants.ts";
import type { Core } from "../context.ts";
import { recordState, statusOf } from "./power.ts";
import { vmTarget } from "./records.ts";

const STATE_AFTER: Partial<Record<LifecycleEvent, DomainState>> = {
  started: "running",
  resumed: "running",
  suspended: "paused",
  pmsuspended: "pmsuspended",
  stopped: "shutoff",
  crashed: "crashed",
};

/** Subscribes to the event pump; returns the unsubscribe. An action in progress records its own outcome. */
export function trackLifecycle(core: Core): () => void {
  return core.hv.onLifecycle((e) => {
    const state = STATE_AFTER[e.event];
    if (!state) return;
    const row = vmByName(core.db, e.name);
    if (!row || row.status === "creating" || row.status === "gone") return;
    if (row.uuid && row.uuid !== e.uuid) return; // a namesake berth does not manage
    if (core.locks.holder(vmTarget(row.name)) || statusOf(state) === row.status) return;
    recordState(core, row.id, row.name, state);
  });
}
