// DELETE /v1/images/{name}: refused while importing or in use; otherwise its volumes (its RBD image too) and row go.
import { deleteImage as deleteRow, insertImage, markImageReady } from "../../db/images.ts";
import { Conflict } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { Reverter } from "../reverter.ts";
import { rbdBackend } from "../storage/rbd.ts";
import { removeRbdImage } from "../storage/rbd-images.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { type ImageView, imageInUse, imageRow, presentImage } from "./records.ts";
import { removeVolume } from "./store.ts";

export async function deleteImage(core: Core, caller: Caller | null, name: string): Promise<ImageView> {
  requireAdmin(core, caller, "delete images");
  const row = imageRow(core, name);
  if (row.status === "importing") {
    const op = core.locks.holder(`image/${name}`);
    throw new Conflict(`image ${name} is importing${op ? `; cancel operation ${op} to stop it` : ""}`);
  }
  const reason = imageInUse(core, name);
  if (reason) throw new Conflict(`image ${name} is in use: ${reason}`);
  const view = presentImage(core, row);
  // The row goes first, in the same tick as the check: no VM can pick the image up while its volumes go.
  deleteRow(core.db, row.id);
  const r = new Reverter();
  r.add(`restore image ${name}`, () => {
    insertImage(core.db, row);
    markImageReady(core.db, row.id, row);
  });
  await r.run(async () => {
    // First: a refusal (clones on RBD) must leave the image whole.
    if (rbdBackend(core.config)) await removeRbdImage(core, row.id);
    const pool = await ensureStoragePool(core);
    if (row.volume !== "") await removeVolume(core, pool, row.volume);
    if (row.initrd_volume !== null) await removeVolume(core, pool, row.initrd_volume);
  });
  core.events.publish("image.deleted", `image/${name}`, { kind: row.kind });
  return view;
}
