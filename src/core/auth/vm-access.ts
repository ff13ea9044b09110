// Who may see, read the secrets of, and change a VM: its owner and admins, within the user's projects; with [auth] public_reads, anyone sees a little.
import { getMember } from "../../db/pools.ts";
import { accessOfVm, ownerOfVm } from "../../db/vm-owners.ts";
import { NotFound } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import type { Core } from "../context.ts";
import { actsAsAdmin } from "./access.ts";
import type { Caller } from "./caller.ts";
import { NotOwner } from "./errors.ts";
import { mayUseProject } from "./projects.ts";

/** What a caller may see of one VM: everything, only its non-secret fields, or nothing (it is hidden). */
export type VmSight = "full" | "public" | "none";

/**
 * The sight of a VM owned by `owner` (null: a pool's, berth's, or made with auth off) in `project`: none
 * outside a limited user's projects, else by ownership and public_reads.
 */
export function sightOf(core: Core, caller: Caller | null, owner: string | null, project: string): VmSight {
  if (actsAsAdmin(core, caller)) return "full";
  if (!mayUseProject(core, caller, project)) return "none";
  if (caller && owner !== null && owner === caller.name) return "full";
  return core.config.auth.public_reads ? "public" : "none";
}

/** The owner and project of the VM named `name`; a VM berth does not record counts as ownerless in default. */
function accessOf(core: Core, name: string): { owner: string | null; project: string } {
  return accessOfVm(core.db, name) ?? { owner: null, project: DEFAULT_PROJECT };
}

/** The sight of the VM named `name` (as sightOf, looking its owner and project up). */
export function vmSight(core: Core, caller: Caller | null, name: string): VmSight {
  const { owner, project } = accessOf(core, name);
  return sightOf(core, caller, owner, project);
}

function hidden(name: string): NotFound {
  return new NotFound(`vm ${name} does not exist`);
}

/** 404 when the VM is hidden from the caller (as if absent); else what the caller may see of it. */
export function assertVmVisible(core: Core, caller: Caller | null, name: string): VmSight {
  const sight = vmSight(core, caller, name);
  if (sight === "none") throw hidden(name);
  return sight;
}

/** Console, XML, snapshots, disks' paths, user data: the owner's and admins' only (403, or 404 when hidden). */
export function assertVmSecrets(core: Core, caller: Caller | null, name: string): void {
  if (assertVmVisible(core, caller, name) === "full") return;
  throw new NotOwner(`only the owner of vm ${name} or an admin may read this`);
}

/**
 * Changing a VM: its owner or an admin. A pool's ready VM belongs to the pool (admins only), so a user
 * never changes a VM that someone else then checks out. 403 not_owner, or 404 when it is hidden
 * (outside a limited user's projects too, even their own VM).
 */
export function assertVmActor(core: Core, caller: Caller | null, name: string): void {
  if (actsAsAdmin(core, caller)) return;
  const { owner, project } = accessOf(core, name);
  if (sightOf(core, caller, owner, project) === "none") throw hidden(name);
  if (caller && owner !== null && owner === caller.name) return;
  throw new NotOwner(
    owner === null
      ? `vm ${name} is not yours: only an admin may change it`
      : `vm ${name} belongs to another user`,
  );
}

/**
 * vmpooler's anonymous lease: a pool VM checked out without a token while auth is on (no owner at all).
 * Only the vmpooler front's return and tag change consult this (vmpooler let anyone do both); every
 * other path, the native API included, still applies assertVmActor and refuses non-admins.
 */
export function anonymousLease(core: Core, name: string): boolean {
  if (!core.config.auth.enabled) return false;
  const m = getMember(core.db, name);
  return m?.status === "checked_out" && m.owner === null && ownerOfVm(core.db, name) === null;
}
