// Which events a caller may see on /v1/events: admins all; a user the catalogue and what concerns them, within their projects.
import { getOperation } from "../../db/operations.ts";
import { getRequest } from "../../db/requests.ts";
import { accessOfVm, projectsOfOwned } from "../../db/vm-owners.ts";
import type { Core } from "../context.ts";
import type { BerthEvent } from "../events.ts";
import { operationInProjects, userSeesOperation } from "../operation-access.ts";
import { actsAsAdmin, requireCaller } from "./access.ts";
import type { Caller } from "./caller.ts";
import { projectsOf } from "./projects.ts";

/** Targets anyone may follow: the catalogue holds nothing secret (image sources are shown redacted). */
const CATALOGUE = new Set(["image", "size", "profile", "network"]);

function split(target: string): [string, string] {
  const slash = target.indexOf("/");
  return slash < 0 ? [target, ""] : [target.slice(0, slash), target.slice(slash + 1)];
}

/**
 * A filter for one event stream of `caller`. It remembers the VMs it saw the caller own, and the
 * project each was last in, so the caller still gets the events that outlive ownership (a VM's
 * deletion) for VMs it was shown; a user limited to projects gets none of a VM outside them.
 */
export function eventFilterFor(core: Core, caller: Caller | null): (e: BerthEvent) => boolean {
  if (actsAsAdmin(core, caller)) return () => true;
  if (!caller) return () => false;
  const me = caller.name;
  const allowed = projectsOf(core, caller);
  const mine = projectsOfOwned(core.db, me);
  const ownsVm = (name: string): boolean => {
    if (allowed === null && mine.has(name)) return true;
    const now = accessOfVm(core.db, name);
    if (now && (now.owner === me || mine.has(name))) mine.set(name, now.project);
    const project = mine.get(name);
    return project !== undefined && (allowed === null || allowed.has(project));
  };
  return (e) => {
    const [kind, name] = split(e.target);
    if (CATALOGUE.has(kind)) return true;
    switch (kind) {
      case "vm":
      case "domain":
        return ownsVm(name);
      case "user":
        return name === me;
      case "request":
        return getRequest(core.db, name)?.owner === me;
      case "pool":
        return e.data.owner === me;
      case "operation": {
        const op = getOperation(core.db, name);
        return op !== null && userSeesOperation(me, op, ownsVm) && operationInProjects(core, allowed, op);
      }
      default:
        return false;
    }
  };
}

/** Opening /v1/events: with auth on it needs a token (401), and the stream carries what `eventFilterFor` allows. */
export function eventFeedFor(core: Core, caller: Caller | null): (e: BerthEvent) => boolean {
  requireCaller(core, caller);
  return eventFilterFor(core, caller);
}
