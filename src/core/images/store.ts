// Puts a staged file into berth's storage pool as a volume, and takes image volumes out again.
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AppError } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { log } from "../../log.ts";
import { buildVolumeXml, POOL_DIR_MODE } from "../../xml/storage.ts";
import type { Core } from "../context.ts";
import { poolDir } from "../paths.ts";
import type { Reverter } from "../reverter.ts";
import { isLibvirt } from "../storage-pool.ts";
import type { Detected } from "./detect.ts";

/** The volume names an image with id `id` can have; exact names, so cleanup never matches by prefix. */
export function volumeNames(id: string): string[] {
  return [`img-${id}.qcow2`, `img-${id}.raw`, `img-${id}.iso`, `img-${id}-kernel`, `img-${id}-initrd`];
}

export function volumeName(id: string, part: "main" | "initrd", d: Detected, kind: string): string {
  if (part === "initrd") return `img-${id}-initrd`;
  if (kind === "kernel") return `img-${id}-kernel`;
  return `img-${id}.${d.format}`;
}

/** rename(2) when staging and pool share a filesystem; a copy when they do not. */
async function moveInto(staged: string, dest: string): Promise<void> {
  try {
    await rename(staged, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    await copyFile(staged, dest);
    await rm(staged, { force: true });
  }
}

/** Deletes a volume and its file; a volume already gone is fine (the goal is that it is gone). */
export async function removeVolume(core: Core, pool: string, volume: string): Promise<void> {
  try {
    await core.hv.call("volume.delete", { pool, volume });
  } catch (e) {
    if (!isLibvirt(e, ErrorCode.NO_STORAGE_VOL)) throw e;
    log.debug("image volume already gone", { pool, volume });
  } finally {
    // libvirt's test driver keeps volumes in memory only, so the file is ours to remove there.
    await rm(join(poolDir(core.config), volume), { force: true });
  }
}

/**
 * Creates volume `volume` and moves `staged` over its file. The placeholder is created empty:
 * a raw volume of the full size would be allocated on disk only to be replaced at once.
 */
export async function storeVolume(
  core: Core,
  r: Reverter,
  pool: string,
  staged: string,
  volume: string,
  d: Detected,
): Promise<void> {
  const format = d.format === "qcow2" ? "qcow2" : "raw";
  const capacityBytes = format === "qcow2" ? d.virtualSize : 0;
  const created = await core.hv.call("volume.create", {
    pool,
    xml: buildVolumeXml({ name: volume, capacityBytes, format }),
  });
  r.add(`delete volume ${volume}`, () => removeVolume(core, pool, volume));
  const want = join(poolDir(core.config), volume);
  if (created.path !== want) {
    throw new AppError(
      500,
      "storage_pool_mismatch",
      `storage pool ${pool} keeps volumes in ${dirname(created.path)}, not in ${poolDir(core.config)} as configured`,
    );
  }
  await mkdir(dirname(want), { recursive: true, mode: POOL_DIR_MODE });
  await moveInto(staged, want);
}
