// Where a request belongs in the fleet: the host holding a VM, the host a create goes to, whether an operation is here.
import { getOperation } from "../../db/operations.ts";
import { vmByName } from "../../db/vms.ts";
import type { Core } from "../context.ts";
import { placeableHosts } from "./domain-state.ts";
import { HostUnreachable } from "./errors.ts";
import { type HostRecord, liveHosts } from "./members.ts";
import { claimOf } from "./names.ts";
import { placeVm, SELECTORS, type Selector } from "./placement.ts";

/** This host runs (or ran) operation `id`. */
export function operationHere(core: Core, id: string): boolean {
  return getOperation(core.db, id) !== null;
}

/** The host a VM lives on when that is not this one, or null (then this host answers, 404 if it has none). */
export async function hostHolding(core: Core, vm: string): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet || vmByName(core.db, vm) !== null) return null;
  const claim = await claimOf(fleet, vm);
  if (!claim || claim.host === fleet.name) return null;
  const host = (await liveHosts(fleet)).get(claim.host);
  if (!host) throw new HostUnreachable(`vm ${vm} is on host ${claim.host}, which is not reachable`);
  return host;
}

/** The host a create goes to by its `host`/`selector` fields; null when it is this one. */
export async function placementOf(core: Core, body: Uint8Array): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet) return null;
  let req: { host?: unknown; selector?: unknown; xml?: unknown };
  try {
    req = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null; // not JSON: this host's route answers it with its 400
  }
  if (typeof req !== "object" || req === null || "xml" in req) return null;
  const host = typeof req.host === "string" ? req.host : undefined;
  const selector = SELECTORS.includes(req.selector as Selector) ? (req.selector as Selector) : undefined;
  // A named host may be any live one; a selector skips flushed hosts (PVC's flush).
  const hosts = host !== undefined ? await liveHosts(fleet) : await placeableHosts(fleet);
  const chosen = placeVm(hosts, { host, selector });
  return chosen === fleet.name ? null : (hosts.get(chosen) ?? null);
}
