// Images on RBD: each ready disk image imported once into the Ceph pool (raw), the parent of its VMs' clones.
import { instanceId } from "../../db/host-meta.ts";
import { Conflict } from "../../errors.ts";
import type { Core } from "../context.ts";
import type { ImageRecord } from "../images/records.ts";
import { refreshPool } from "../storage-pool.ts";
import { ensureRbdPool, rbdSettings } from "./rbd.ts";
import { importToRbd, rbdImages, runRbd } from "./rbd-cli.ts";
import { rbdSnapsOf } from "./rbd-snapshots.ts";

/** The RBD image holding berth image `id`: named by its id, so a rename or a new image of the same name never reuses it. */
export function rbdImageVolume(imageId: string): string {
  return `image-${imageId}`;
}

const importing = new Map<string, Promise<string>>();

/** The RBD image of `image`, imported now if neither this host nor another did before (one import per image per process). */
export function ensureRbdImage(core: Core, image: ImageRecord): Promise<string> {
  const running = importing.get(image.id);
  if (running) return running;
  const p = importOnce(core, image).finally(() => importing.delete(image.id));
  importing.set(image.id, p);
  return p;
}

/**
 * Imports under a name of this installation's own, then renames: the final name exists only once whole, so a
 * crash mid-import never leaves a partial image to clone, and two hosts importing at once never write one image.
 */
async function importOnce(core: Core, image: ImageRecord): Promise<string> {
  const pool = await ensureRbdPool(core);
  const s = rbdSettings(core.config);
  const volume = rbdImageVolume(image.id);
  const part = `${volume}.part-${instanceId(core.db)}`;
  let names = await rbdImages(s);
  if (!names.has(volume)) {
    // Left by a crash of this installation mid-import: only this installation ever writes that name.
    if (names.has(part)) await runRbd(s, ["rm", "--no-progress", `${s.cephPool}/${part}`]);
    await importToRbd(s, image.path, image.format === "qcow2" ? "qcow2" : "raw", part);
    try {
      await runRbd(s, ["mv", `${s.cephPool}/${part}`, `${s.cephPool}/${volume}`]);
    } catch (e) {
      names = await rbdImages(s);
      if (!names.has(volume)) throw e;
      // Another host's import finished first: its image is as good as ours.
      await runRbd(s, ["rm", "--no-progress", `${s.cephPool}/${part}`]);
    }
  }
  // libvirt caches an rbd pool's volumes per daemon: an image made outside it shows after a refresh.
  await refreshPool(core, pool);
  return volume;
}

/**
 * Removes the RBD image of berth image `imageId` with the snapshots its clones were made from; refused (409)
 * while any clone of it exists (a VM's disk on any host). Never imported: nothing to do.
 */
export async function removeRbdImage(core: Core, imageId: string): Promise<void> {
  const s = rbdSettings(core.config);
  const volume = rbdImageVolume(imageId);
  if (!(await rbdImages(s)).has(volume)) return;
  const image = `${s.cephPool}/${volume}`;
  const snaps = await rbdSnapsOf(s, volume);
  for (const snap of snaps) {
    const clones = (await runRbd(s, ["children", "--all", `${image}@${snap.name}`]))
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    if (clones.length > 0)
      throw new Conflict(`RBD image ${image} still has clones (VM disks on some host): ${clones.join(", ")}`);
  }
  for (const snap of snaps) {
    if (snap.protected) await runRbd(s, ["snap", "unprotect", `${image}@${snap.name}`]);
    await runRbd(s, ["snap", "rm", "--no-progress", `${image}@${snap.name}`]);
  }
  await runRbd(s, ["rm", "--no-progress", image]);
  await refreshPool(core, await ensureRbdPool(core));
}
