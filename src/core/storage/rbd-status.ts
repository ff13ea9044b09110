// What berth can read of its Ceph pool through libvirt's rbd pool: capacity, use and the RBD images in it.
import type { Core } from "../context.ts";
import { refreshPool } from "../storage-pool.ts";
import { ensureRbdPool, rbdSettings } from "./rbd.ts";

export interface RbdPoolState {
  /** The Ceph pool's name. */
  name: string;
  capacity: number;
  allocation: number;
  available: number;
  volumes: number;
}

/** Reads it fresh: libvirt caches an rbd pool's volumes per daemon, so images another host made show only after a refresh. */
export async function rbdPoolState(core: Core): Promise<RbdPoolState> {
  const pool = await ensureRbdPool(core);
  await refreshPool(core, pool);
  const [info, vols] = await Promise.all([
    core.hv.call("pool.info", { pool }),
    core.hv.call("volume.list", { pool }),
  ]);
  return { name: rbdSettings(core.config).cephPool, ...info, volumes: vols.length };
}
