// Operations as a caller may see them: admins all; a user those they started and those on VMs they own, within their projects.
import { accessOfVm, ownerOfVm } from "../db/vm-owners.ts";
import { NotFound } from "../errors.ts";
import { actsAsAdmin, requireCaller } from "./auth/access.ts";
import type { Caller } from "./auth/caller.ts";
import { projectsOf } from "./auth/projects.ts";
import type { Core } from "./context.ts";
import type { Operation } from "./operations.ts";

const VM_TARGET = /^vm\/(.+)$/;

/**
 * The rule for one user (not an admin): the operations `user` started, and those acting on a VM for
 * which `ownsVm` holds. Event streams pass their own `ownsVm`, which remembers VMs since deleted.
 */
export function userSeesOperation(
  user: string,
  op: Pick<Operation, "owner" | "target">,
  ownsVm: (name: string) => boolean,
): boolean {
  if (op.owner !== null && op.owner === user) return true;
  const vm = VM_TARGET.exec(op.target)?.[1];
  return vm !== undefined && ownsVm(vm);
}

/** False when `op` acts on a VM that is now in a project outside `allowed` (null: any project). */
export function operationInProjects(
  core: Core,
  allowed: ReadonlySet<string> | null,
  op: Pick<Operation, "target">,
): boolean {
  if (allowed === null) return true;
  const vm = VM_TARGET.exec(op.target)?.[1];
  const project = vm === undefined ? undefined : accessOfVm(core.db, vm)?.project;
  return project === undefined || allowed.has(project);
}

/** Whether `caller` may see operation `op`; users never see berth's own work, another user's, or outside their projects. */
export function maySeeOperation(core: Core, caller: Caller | null, op: Operation): boolean {
  if (actsAsAdmin(core, caller)) return true;
  if (!caller) return false;
  return (
    userSeesOperation(caller.name, op, (vm) => ownerOfVm(core.db, vm) === caller.name) &&
    operationInProjects(core, projectsOf(core, caller), op)
  );
}

/** The operation, or 404 when it does not exist or is not the caller's to see. */
export function operationFor(core: Core, caller: Caller | null, id: string): Operation {
  const op = core.ops.get(id);
  if (!maySeeOperation(core, caller, op)) throw new NotFound(`operation ${id} does not exist`);
  return op;
}

export function listOperationsFor(
  core: Core,
  caller: Caller | null,
  filter: { target?: string; status?: string; limit?: number },
): Operation[] {
  if (actsAsAdmin(core, caller)) return core.ops.list(filter);
  const who = requireCaller(core, caller) as Caller;
  const projects = projectsOf(core, who);
  return core.ops.list({ ...filter, owner: who.name, ...(projects ? { projects: [...projects] } : {}) });
}

export async function waitOperationFor(
  core: Core,
  caller: Caller | null,
  id: string,
  timeoutSeconds: number,
): Promise<Operation> {
  operationFor(core, caller, id);
  return await core.ops.wait(id, timeoutSeconds);
}

export function cancelOperationFor(core: Core, caller: Caller | null, id: string): Operation {
  operationFor(core, caller, id);
  return core.ops.cancel(id);
}
