// Images on RBD: each ready disk image imported once into the Ceph pool (raw), the parent of its VMs' clones.
import { ErrorCode } from "../../ffi/error.ts";
import type { Core } from "../context.ts";
import type { ImageRecord } from "../images/records.ts";
import { runQemuImg } from "../qemu-img.ts";
import { isLibvirt } from "../storage-pool.ts";
import { ensureRbdPool, type RbdSettings, rbdSettings } from "./rbd.ts";

/** The RBD image holding berth image `id`: named by its id, so a rename or a new image of the same name never reuses it. */
export function rbdImageVolume(imageId: string): string {
  return `image-${imageId}`;
}

// qemu's rbd: filename takes `:` between options; a literal one (a monitor's port) is `\:`, monitors are split by `\;`.
const esc = (s: string) => s.replaceAll("\\", "\\\\").replaceAll(":", "\\:").replaceAll(";", "\\;");

/** qemu-img's target for RBD image `volume`: the key comes from the key file, never from argv. */
export function qemuRbdTarget(s: RbdSettings, volume: string): string {
  const mons = s.monitors.map((m) => esc(`${m.host}:${m.port}`)).join("\\;");
  return `rbd:${s.cephPool}/${volume}:id=${esc(s.user)}:keyfile=${esc(s.keyFile)}:mon_host=${mons}`;
}

const importing = new Map<string, Promise<string>>();

/** The RBD volume of `image`, imported now (qemu-img convert -O raw) if neither this host nor another did before. */
export function ensureRbdImage(core: Core, image: ImageRecord): Promise<string> {
  const running = importing.get(image.id);
  if (running) return running;
  const p = importOnce(core, image).finally(() => importing.delete(image.id));
  importing.set(image.id, p);
  return p;
}

async function exists(core: Core, pool: string, volume: string): Promise<boolean> {
  try {
    await core.hv.call("volume.info", { pool, volume });
    return true;
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_STORAGE_VOL)) return false;
    throw e;
  }
}

async function importOnce(core: Core, image: ImageRecord): Promise<string> {
  const pool = await ensureRbdPool(core);
  const volume = rbdImageVolume(image.id);
  if (await exists(core, pool, volume)) return volume;
  // libvirt caches an rbd pool's volume list per daemon: another host's import shows after a refresh.
  await core.hv.call("pool.refresh", { pool });
  if (await exists(core, pool, volume)) return volume;
  const s = rbdSettings(core.config);
  const target = qemuRbdTarget(s, volume);
  try {
    await runQemuImg([
      "convert",
      "-f",
      image.format === "qcow2" ? "qcow2" : "raw",
      "-O",
      "raw",
      image.path,
      target,
    ]);
  } catch (e) {
    await core.hv.call("pool.refresh", { pool });
    if (await exists(core, pool, volume)) await core.hv.call("volume.delete", { pool, volume });
    throw e;
  }
  await core.hv.call("pool.refresh", { pool });
  return volume;
}
