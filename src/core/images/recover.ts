// At start: imports a previous run left half-done (rows still "importing") are undone entirely.
import { readdir } from "node:fs/promises";
import { deleteImage, listImages } from "../../db/images.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { stagingDir } from "../paths.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { removeStaged } from "./staging.ts";
import { removeVolume, volumeNames } from "./store.ts";

/**
 * Call before serving, when no import can be running: removes each stale import's volumes, staged
 * files and row, and any staged file no row owns. Returns how many imports it undid.
 */
export async function recoverImports(core: Core): Promise<number> {
  const stale = listImages(core.db, { status: "importing" });
  const pool = await ensureStoragePool(core);
  const present = new Set((await core.hv.call("volume.list", { pool })).map((v) => v.name));
  for (const row of stale) {
    for (const v of volumeNames(row.id)) if (present.has(v)) await removeVolume(core, pool, v);
    deleteImage(core.db, row.id);
    log.warn("removed an image import interrupted by the last stop", { image: row.name });
  }
  const dir = stagingDir(core.config);
  let files: string[] = [];
  try {
    files = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  for (const f of files) {
    if (/^img-[0-9a-f-]{36}(-initrd)?\.part$/.test(f)) await removeStaged(`${dir}/${f}`);
  }
  return stale.length;
}
