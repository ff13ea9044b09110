// PVC's move, migrate and unmigrate on a fleet: berth's migration to another host, with PVC's last_node kept on the VM's record.
import { vmByName } from "../../db/vms.ts";
import { AppError } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { placeableHosts } from "../fleet/domain-state.ts";
import type { Fleet } from "../fleet/fleet.ts";
import { liveHosts } from "../fleet/members.ts";
import { type LastHost, migrateVm } from "../fleet/migrate.ts";
import { placeVm, SELECTORS, type Selector } from "../fleet/placement.ts";
import { operationFinished } from "../operation-outcome.ts";

type Move = "move" | "migrate" | "unmigrate";

/** `node`, or by `selector` (PVC's default mem: least allocated memory) the best placeable host other than this one. */
async function targetOf(
  fleet: Fleet,
  ref: string,
  node: string | undefined,
  selector: string | undefined,
): Promise<string> {
  if (node !== undefined && node !== "") {
    if (!(await liveHosts(fleet)).has(node))
      throw new AppError(400, "invalid_request", `Specified node "${node}" is invalid.`);
    return node;
  }
  // PVC's default target: the least allocated node that is not flushed, never this one.
  const placeable = await placeableHosts(fleet);
  placeable.delete(fleet.name);
  if (placeable.size === 0)
    throw new AppError(409, "no_other_node", `Cannot move VM "${ref}": no other node is available.`);
  if (selector !== undefined && selector !== "" && !SELECTORS.includes(selector as Selector))
    throw new AppError(400, "invalid_request", `Specified selector "${selector}" is invalid.`);
  return placeVm(placeable, { selector: selector === "" ? undefined : (selector as Selector | undefined) });
}

/**
 * move: to `node` for good (last_node cleared); migrate: to `node`, remembering this host as last_node
 * (refused when already migrated, unless force: the first origin is kept); unmigrate: back to last_node.
 * Each waits for the migration (live when the VM runs).
 */
export async function pvcFleetMove(
  core: Core,
  fleet: Fleet,
  caller: Caller | null,
  name: string,
  ref: string,
  action: Move,
  node: string | undefined,
  force: boolean,
  selector?: string,
): Promise<string> {
  const last = vmByName(core.db, name)?.last_host ?? null;
  let to: string;
  let lastHost: LastHost;
  if (action === "unmigrate") {
    if (last === null) throw new AppError(409, "conflict", `VM "${ref}" has not been previously migrated.`);
    to = last;
    lastHost = "clear";
  } else {
    if (action === "migrate" && last !== null && !force)
      throw new AppError(409, "conflict", `VM "${ref}" has been previously migrated.`);
    to = await targetOf(fleet, ref, node, selector);
    lastHost = action === "migrate" ? "set" : "clear";
  }
  if (to === fleet.name)
    throw new AppError(409, "conflict", `VM "${ref}" is already running on node "${fleet.name}".`);
  await operationFinished(core.ops, await migrateVm(core, caller, name, { host: to }, lastHost));
  const verb = { move: "Permanently migrated", migrate: "Migrated", unmigrate: "Unmigrated" }[action];
  return `${verb} VM '${ref}' to node '${to}'.`;
}
