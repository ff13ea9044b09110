// VM snapshots on RBD: one `rbd snap` per disk image under the snapshot's name (libvirt 9 cannot snapshot rbd network disks).
import { Conflict } from "../../errors.ts";
import type { RbdSettings } from "./rbd.ts";
import { rbdImages, runRbd } from "./rbd-cli.ts";

const spec = (s: RbdSettings, volume: string, snap?: string) =>
  `${s.cephPool}/${volume}${snap === undefined ? "" : `@${snap}`}`;

export interface RbdSnap {
  name: string;
  protected: boolean;
}

/** The RBD snapshots of image `volume`. */
export async function rbdSnapsOf(s: RbdSettings, volume: string): Promise<RbdSnap[]> {
  const out = await runRbd(s, ["snap", "ls", "--format", "json", spec(s, volume)]);
  return (JSON.parse(out) as { name: string; protected?: string | boolean }[]).map((x) => ({
    name: x.name,
    protected: String(x.protected) === "true",
  }));
}

/** Snapshots every image as `snap`, all or nothing: a failure part-way removes the snapshots this call made. */
export async function createRbdSnapshots(s: RbdSettings, volumes: string[], snap: string): Promise<void> {
  const made: string[] = [];
  try {
    for (const v of volumes) {
      try {
        await runRbd(s, ["snap", "create", "--no-progress", spec(s, v, snap)]);
      } catch (e) {
        // A snapshot of that name made outside berth: a conflict, and never ours to remove.
        if ((await rbdSnapsOf(s, v).catch(() => [])).some((x) => x.name === snap))
          throw new Conflict(`RBD image ${spec(s, v)} already has a snapshot ${snap} not taken by berth`, {
            cause: e,
          });
        throw e;
      }
      made.push(v);
    }
  } catch (e) {
    for (const v of made) await removeRbdSnapshot(s, v, snap);
    throw e;
  }
}

/** Rolls every image back to `snap` (its content and size); the images must be closed (the VM stopped). */
export async function rollbackRbdSnapshots(s: RbdSettings, volumes: string[], snap: string): Promise<void> {
  for (const v of volumes) await runRbd(s, ["snap", "rollback", "--no-progress", spec(s, v, snap)]);
}

/** Removes `snap` of image `volume`; a snapshot or image already gone is fine (the goal is that it is gone). */
export async function removeRbdSnapshot(s: RbdSettings, volume: string, snap: string): Promise<void> {
  try {
    await runRbd(s, ["snap", "rm", "--no-progress", spec(s, volume, snap)]);
  } catch (e) {
    if (!(await rbdImages(s)).has(volume)) return;
    if (!(await rbdSnapsOf(s, volume)).some((x) => x.name === snap)) return;
    throw e;
  }
}

/** Removes every (unprotected) snapshot of a VM's image before the image goes; an image already gone is fine. */
export async function purgeRbdSnapshots(s: RbdSettings, volume: string): Promise<void> {
  let snaps: RbdSnap[];
  try {
    snaps = await rbdSnapsOf(s, volume);
  } catch (e) {
    if (!(await rbdImages(s)).has(volume)) return;
    throw e;
  }
  if (snaps.length > 0) await runRbd(s, ["snap", "purge", "--no-progress", spec(s, volume)]);
}

/** The size in bytes of image `volume` as it is now. */
export async function rbdImageSize(s: RbdSettings, volume: string): Promise<number> {
  return (JSON.parse(await runRbd(s, ["info", "--format", "json", spec(s, volume)])) as { size: number })
    .size;
}
