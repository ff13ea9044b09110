// A VM taking new vCPUs and memory (a resize, a snapshot revert): the host's capacity and its owner's quota both bound it.
import { ownerOfVm } from "../../db/vm-owners.ts";
import type { VmRow } from "../../db/vms.ts";
import { checkQuota } from "../auth/index.ts";
import { checkVmShape, type VmShape } from "../capacity.ts";
import type { Core } from "../context.ts";

/** 400/409 when `next` does not fit the host, 403 when its growth over `vm` passes the owner's quota. */
export async function checkReshape(
  core: Core,
  vm: Pick<VmRow, "id" | "name" | "vcpus" | "memory_mib">,
  next: VmShape,
  what: string,
): Promise<void> {
  await checkVmShape(core, next, what, vm.id);
  checkQuota(core, ownerOfVm(core.db, vm.name), {
    vcpus: Math.max(0, next.vcpus - vm.vcpus),
    memory_mib: Math.max(0, next.memory_mib - vm.memory_mib),
  });
}
