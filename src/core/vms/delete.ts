// Deleting a VM: stop it if needed, undefine it with what libvirt keeps for it, delete exactly its own volumes (or keep them).
import { join } from "node:path";
import { type DiskRow, deleteVm, devicesByVm, disksOf } from "../../db/vms.ts";
import { assertVmActor, type Caller, ownerNameOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { Operation } from "../operations.ts";
import { poolDir } from "../paths.ts";
import { deleteRbdVolume, ownRbdVolumes } from "../storage/rbd-volumes.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { removeDomain } from "./domain.ts";
import { installVolumesOf } from "./install-boot.ts";
import { findVmRow, vmTarget } from "./records.ts";
import { deleteVolume, ownsVolume } from "./volumes.ts";

export interface DeleteVmOptions {
  /** Leave the VM's volumes in the pool (PVC's undefine): only the domain and berth's record go. */
  keepVolumes?: boolean;
  /**
   * Also delete the disk volumes of berth's pool that a raw-XML definition attached (PVC's remove): not
   * images, not CD-ROMs, and only when no other VM records that volume.
   */
  attachedDisks?: boolean;
}

/** The volumes `opts` says go with the VM: its own, plus (attachedDisks) the disks it alone uses. */
function volumesToDelete(core: Core, vmId: string, opts: DeleteVmOptions): string[] {
  if (opts.keepVolumes) return [];
  const disks = disksOf(core.db, vmId);
  const own = disks.filter((d) => ownsVolume(vmId, d)).map((d) => d.volume);
  if (!opts.attachedDisks) return own;
  const others = new Set<string>();
  for (const [id, rows] of devicesByVm(core.db).disks) {
    if (id !== vmId) for (const d of rows) others.add(d.volume);
  }
  // Only a file of berth's pool directory is that pool's volume of the same name.
  const inPool = (d: DiskRow) => d.path === join(poolDir(core.config), d.volume);
  const attached = disks.filter(
    (d) => d.device === "disk" && d.image === null && inPool(d) && !others.has(d.volume),
  );
  return [...new Set([...own, ...attached.map((d) => d.volume)])];
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
      const rbd = opts.keepVolumes ? [] : ownRbdVolumes(row.id, disksOf(core.db, row.id));
      for (const v of volumesToDelete(core, row.id, opts))
        if (!rbd.includes(v)) await deleteVolume(core, pool, v);
      for (const v of rbd) await deleteRbdVolume(core, v);
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
