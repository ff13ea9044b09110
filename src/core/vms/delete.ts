// Deleting a VM: stop it if needed, undefine it with what libvirt keeps for it, delete exactly its own volumes (or keep them).
import { deleteVm, disksOf } from "../../db/vms.ts";
import { assertVmActor, type Caller, ownerNameOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { Operation } from "../operations.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { removeDomain } from "./domain.ts";
import { installVolumesOf } from "./install-boot.ts";
import { findVmRow, vmTarget } from "./records.ts";
import { deleteVolume, ownsVolume } from "./volumes.ts";

export interface DeleteVmOptions {
  /** Leave the VM's volumes in the pool (PVC's undefine): only the domain and berth's record go. */
  keepVolumes?: boolean;
}

export function deleteVmOp(
  core: Core,
  caller: Caller | null,
  name: string,
  opts: DeleteVmOptions = {},
): Operation {
  assertVmActor(core, caller, name);
  const row = findVmRow(core, name);
  return core.ops.start(
    "vm.delete",
    vmTarget(name),
    async (ctx) => {
      await removeDomain(core, name);
      ctx.progress(0.5, "domain removed");
      const pool = await ensureStoragePool(core);
      for (const d of disksOf(core.db, row.id)) {
        if (!opts.keepVolumes && ownsVolume(row.id, d)) await deleteVolume(core, pool, d.volume);
      }
      // An installer's kernel and initrd are berth's scratch, not the VM's disks: they always go.
      for (const v of installVolumesOf(findVmRow(core, name))) await deleteVolume(core, pool, v);
      deleteVm(core.db, row.id);
      core.events.publish("vm.deleted", vmTarget(name), {
        id: row.id,
        volumes_kept: opts.keepVolumes === true,
      });
      return { id: row.id, name };
    },
    { lock: true, owner: ownerNameOf(core, caller) },
  );
}
