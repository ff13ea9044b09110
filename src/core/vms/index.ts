// The VM model's public surface for routes and the scheduler.

export { VM_STATUSES, type VmStatus } from "../../db/vms.ts";
export { createVm } from "./create.ts";
export { type DeleteVmOptions, deleteVmOp } from "./delete.ts";
export { addDisk, growDisk, listDisks, removeDisk } from "./disks.ts";
export { type InstallRequest, installFromAgent } from "./install.ts";
export type { CreateVmRequest, DiskRequest } from "./plan.ts";
export { POWER_ACTIONS, type PowerAction, powerVm, type ShutdownOptions } from "./power.ts";
export { getVm, listVmViews, type VmQuery } from "./read.ts";
export type { Vm, VmDisk } from "./records.ts";
export { type UpdateVmRequest, updateVmSettings } from "./update.ts";
