// PVC's define placement on a fleet: its `node`, else its `selector` (mem by default) over the non-flushed hosts, through core's placeVm.
import { AppError } from "../../errors.ts";
import type { Core } from "../context.ts";
import { placeableHosts } from "../fleet/domain-state.ts";
import { type HostRecord, liveHosts } from "../fleet/members.ts";
import { placeVm, SELECTORS, type Selector } from "../fleet/placement.ts";

/**
 * The host a PVC define goes to, or null for this one. Without a fleet it is always this host (define
 * itself refuses a `node` that is not this one). An unknown node or selector is PVC's failure.
 */
export async function pvcPlacement(
  core: Core,
  node: string | undefined,
  selector: string | undefined,
): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet) return null;
  // The manual: a given node wins, and the selector is then ignored.
  if (node !== undefined && node !== "") {
    const host = (await liveHosts(fleet)).get(node);
    if (!host) throw new AppError(400, "invalid_request", `Specified node "${node}" is invalid.`);
    return host.name === fleet.name ? null : host;
  }
  const by = selector === undefined || selector === "" ? undefined : selector;
  if (by !== undefined && !SELECTORS.includes(by as Selector))
    throw new AppError(
      400,
      "invalid_request",
      `Specified selector "${by}" is invalid: one of ${SELECTORS.join(", ")}.`,
    );
  const hosts = await placeableHosts(fleet);
  const chosen = placeVm(hosts, { selector: by as Selector | undefined });
  return chosen === fleet.name ? null : (hosts.get(chosen) ?? null);
}
