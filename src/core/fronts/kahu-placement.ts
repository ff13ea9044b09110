// Kahu's `hypervisor` on a fleet: hypervisor/instance/<fleet host name> places the instance on that host (0 is this one).
import type { Core } from "../context.ts";
import { type HostRecord, liveHosts } from "../fleet/members.ts";
import { placeVm } from "../fleet/placement.ts";
import { HYPERVISOR_ID, hypervisorIdOf } from "./kahu.ts";

/**
 * The host a Kahu create goes to, or null for this one (without a fleet, without a `hypervisor`, for id 0
 * or this host's name, and for a value naming no live host: this host's create refuses that with its 400).
 */
export async function kahuPlacement(core: Core, hypervisor: string | undefined): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet || hypervisor === undefined || hypervisor === "") return null;
  const id = hypervisorIdOf(hypervisor);
  if (id === null || id === HYPERVISOR_ID || id === fleet.name) return null;
  const hosts = await liveHosts(fleet);
  if (!hosts.has(id)) return null;
  // The same placement as the native `host`: a named host is any live one.
  return hosts.get(placeVm(hosts, { host: id })) ?? null;
}
