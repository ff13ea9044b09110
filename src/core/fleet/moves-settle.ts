// Reconcile of migrations on each side: the name claim decides whether a departure finishes or aborts and whether an arrival commits.
import { listArrivals, listDepartures } from "../../db/fleet-moves.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { domainState } from "../vms/domain.ts";
import { vmTarget } from "../vms/records.ts";
import { abandonedBySource, commitArrival, dropArrival } from "./arrive.ts";
import { abortDeparture, finishDeparture, tellDestination } from "./depart.ts";
import type { Fleet } from "./fleet.ts";
import { claimOf, handOver } from "./names.ts";

/** Whether libvirt runs a job (the migration berth started before it was killed) on the domain. */
async function migrating(core: Core, name: string): Promise<boolean> {
  try {
    return await core.hv.call("domain.hasJob", { name });
  } catch (e) {
    log.warn("fleet: job of a departing domain not read; taken as running", { vm: name, error: String(e) });
    return true;
  }
}

export interface MovesSettled {
  finished: string[];
  aborted: string[];
  committed: string[];
  dropped: string[];
}

/**
 * Departures no operation is running for (a berth killed mid-way): the claim at the destination means the
 * VM left (finish); a live migration whose domain libvirt already moved hands the claim over first (one whose
 * domain is still here waits `abandonAfterMs`: libvirtd may still be moving it); else abort.
 * Arrivals: a claim here commits; one without the claim is dropped when older than `dropAfterMs` or when its
 * source says it no longer departs it (it aborted while this host was down and could not be told).
 */
export async function settleMoves(
  core: Core,
  fleet: Fleet,
  abandonAfterMs: number,
  dropAfterMs = 2 * abandonAfterMs,
): Promise<MovesSettled> {
  const out: MovesSettled = { finished: [], aborted: [], committed: [], dropped: [] };
  for (const dep of listDepartures(core.db)) {
    if (core.locks.holder(vmTarget(dep.vm_name)) !== undefined) continue;
    let claim = await claimOf(fleet, dep.vm_name);
    if (dep.live && claim?.host === fleet.name) {
      const here = (await domainState(core, dep.vm_name)) !== null;
      // libvirtd drives a peer-to-peer migration on its own: while its job runs, the domain may yet move.
      if (
        here &&
        (await migrating(core, dep.vm_name)) &&
        Date.now() - Date.parse(dep.started_at) < abandonAfterMs
      )
        continue;
      // libvirt finished the move (UNDEFINE_SOURCE): the guest runs on the destination, so the name follows it.
      if (!here && (await handOver(fleet, dep.vm_name, dep.to_host))) claim = { host: dep.to_host, at: "" };
    }
    if (claim?.host === dep.to_host) {
      await finishDeparture(core, dep);
      await tellDestination(fleet, dep, "POST", "/commit");
      out.finished.push(dep.vm_name);
    } else {
      await abortDeparture(core, fleet, dep);
      out.aborted.push(dep.vm_name);
    }
  }
  for (const a of listArrivals(core.db)) {
    const claim = await claimOf(fleet, a.vm_name);
    if (claim?.host === fleet.name) {
      await commitArrival(core, fleet, a.vm_name, a.migration);
      out.committed.push(a.vm_name);
    } else if (Date.now() - Date.parse(a.created_at) > dropAfterMs || (await abandonedBySource(fleet, a))) {
      await dropArrival(core, fleet, a.vm_name, a.migration).catch((e) =>
        log.error("fleet: arrival neither committed nor dropped", { vm: a.vm_name, error: String(e) }),
      );
      out.dropped.push(a.vm_name);
    }
  }
  return out;
}
