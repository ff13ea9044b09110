// A VM checked out with a token is changed or returned only by its owner (vmpooler let any token do it).
import { ownerOfVm } from "../../db/vm-owners.ts";
import type { Core } from "../context.ts";
import type { Caller } from "./caller.ts";
import { NotOwner } from "./errors.ts";

/**
 * 403 not_owner when auth is on and the VM named exactly `vmName` is owned by a user other than the
 * caller (admins excepted). A VM without an owner, or one that does not exist, passes: its route decides.
 */
export function assertOwner(core: Core, vmName: string, caller: Caller | null): void {
  if (!core.config.auth.enabled) return;
  const owner = ownerOfVm(core.db, vmName);
  if (owner === null || caller?.admin || caller?.name === owner) return;
  throw new NotOwner(`vm ${vmName} is checked out by another user`);
}
