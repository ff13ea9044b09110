// Placement of a create: the named host, or the best live host by a selector (PVC's mem, vcpus, load, vms).
import { BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { FleetUnavailable } from "./errors.ts";
import type { HostRecord } from "./members.ts";

export const SELECTORS = ["mem", "vcpus", "load", "vms"] as const;
export type Selector = (typeof SELECTORS)[number];

/** What a selector minimises: allocated memory, allocated vCPUs, 1-minute load, number of VMs. */
const measure: Record<Selector, (h: HostRecord) => number> = {
  mem: (h) => h.allocation.memory_mib,
  vcpus: (h) => h.allocation.vcpus,
  load: (h) => h.load,
  vms: (h) => h.vms,
};

export interface PlacementRequest {
  host?: string | undefined;
  selector?: Selector | undefined;
}

/** The host a create goes to; ties go to the first name in order, so equal hosts are chosen the same way. */
export function placeVm(hosts: ReadonlyMap<string, HostRecord>, req: PlacementRequest): string {
  if (req.host !== undefined) {
    if (!hosts.has(req.host)) throw new BadRequest(`host ${req.host} is not a live member of the fleet`);
    return req.host;
  }
  const by = measure[req.selector ?? "mem"];
  const ranked = [...hosts.values()].sort((a, b) => by(a) - by(b) || a.name.localeCompare(b.name));
  const best = ranked[0];
  if (!best) throw new FleetUnavailable("no live host in the fleet to place the VM on");
  return best.name;
}

/** A create that names a host reaches core on that host (the fleet layer forwards it); anywhere else it is a 400. */
export function assertPlacedHere(core: Core, host: string | undefined): void {
  if (host === undefined || host === core.fleet?.name) return;
  throw new BadRequest(
    core.fleet
      ? `host ${host} is not this host (${core.fleet.name})`
      : `host ${host}: this host is not in a fleet`,
  );
}
