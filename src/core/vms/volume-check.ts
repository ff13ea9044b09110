// Before a VM starts: none of its qcow2 volumes' headers may reach a file berth did not put there (a volume made before the allowlist, a reverted snapshot).
import { disksOf, type VmRow } from "../../db/vms.ts";
import { AppError } from "../../errors.ts";
import type { Core } from "../context.ts";
import { poolDir } from "../paths.ts";
import { headerProblem } from "../volume-header.ts";
import { ownVolume, readyImagesByPath } from "./xml-volumes.ts";

/** 409 unsafe_volume naming the disk whose header names another backing file or any external data file. */
export function assertVolumesClosed(core: Core, vm: Pick<VmRow, "id" | "name">): void {
  const images = readyImagesByPath(core);
  const pool = poolDir(core.config);
  for (const d of disksOf(core.db, vm.id)) {
    // The same record of format and backing chain the raw-XML check reads.
    const v = ownVolume(d, images, pool);
    const problem = typeof v === "string" ? v : headerProblem(d.path, v.format, v.backing?.path ?? null);
    if (problem) {
      throw new AppError(409, "unsafe_volume", `vm ${vm.name} cannot start: disk ${d.name}: ${problem}`);
    }
  }
}
