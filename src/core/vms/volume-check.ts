// Before a VM starts: none of its qcow2 volumes' headers may reach a file berth did not put there (a volume made before the allowlist, a reverted snapshot).
import { join } from "node:path";
import { imageByName } from "../../db/images.ts";
import { disksOf, type VmRow } from "../../db/vms.ts";
import { AppError } from "../../errors.ts";
import type { Core } from "../context.ts";
import { poolDir } from "../paths.ts";
import { readVolumeHeader } from "./volume-header.ts";

/** The backing file berth put in the disk's header: its image's volume for a linked clone, else none. */
function recordedBacking(core: Core, image: string | null, path: string): string | null {
  if (image === null) return null;
  const img = imageByName(core.db, image);
  if (!img?.volume) return null;
  const imagePath = join(poolDir(core.config), img.volume);
  return imagePath === path ? null : imagePath;
}

/** 409 unsafe_volume naming the disk whose header names another backing file or any external data file. */
export function assertVolumesClosed(core: Core, vm: Pick<VmRow, "id" | "name">): void {
  for (const d of disksOf(core.db, vm.id)) {
    if (d.format !== "qcow2") continue;
    const h = readVolumeHeader(d.path);
    if (h === "missing") continue; // libvirt's test driver keeps volumes in memory
    const want = recordedBacking(core, d.image, d.path);
    const problem =
      h === null
        ? "is not a regular file"
        : h.dataFile !== null
          ? `names an external data file ${h.dataFile}`
          : h.backing !== want
            ? `names ${h.backing ?? "no backing file"} as its backing file, not ${want ?? "none"}`
            : null;
    if (problem) {
      throw new AppError(
        409,
        "unsafe_volume",
        `vm ${vm.name} cannot start: disk ${d.name} (${d.path}) ${problem}`,
      );
    }
  }
}
