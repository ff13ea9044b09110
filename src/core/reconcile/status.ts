// The vms.status a libvirt domain state corresponds to, for the states reconcile keeps in step.
import type { DomainState } from "../../ffi/constants.ts";

/** Statuses reconcile may correct from libvirt; creating, error and gone are berth's own to set. */
export const SYNCED_STATUSES: ReadonlySet<string> = new Set(["running", "stopped", "paused"]);

/** null for nostate: libvirt does not know, so the row is left as it is. */
export function statusForState(state: DomainState): "running" | "stopped" | "paused" | null {
  switch (state) {
    case "running":
    case "blocked":
    case "shutdown": // still running while the guest shuts down
      return "running";
    case "paused":
    case "pmsuspended":
      return "paused";
    case "shutoff":
    case "crashed":
      return "stopped";
    default:
      return null;
  }
}
