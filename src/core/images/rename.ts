// PATCH /v1/images/{name}: a new name; only the row changes, since volumes are named by id.
import { renameImage as renameRow } from "../../db/images.ts";
import { Conflict } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";
import { getImage, type ImageView, imageInUse, imageRow } from "./records.ts";

/**
 * VMs and profiles refer to images by name, so an image in use keeps its name: renaming it would
 * leave them pointing at nothing, and a later delete would not see them.
 */
export function renameImage(core: Core, caller: Caller | null, name: string, to: string): ImageView {
  requireAdmin(core, caller, "rename images");
  checkName("image", to);
  const row = imageRow(core, name);
  if (to === name) return getImage(core, caller, name);
  if (row.status !== "ready")
    throw new Conflict(`image ${name} is ${row.status}; rename it once it is ready`);
  const reason = imageInUse(core, name);
  if (reason) throw new Conflict(`image ${name} cannot be renamed: ${reason}`);
  if (!renameRow(core.db, row.id, to)) throw new Conflict(`image ${to} already exists`);
  core.events.publish("image.renamed", `image/${to}`, { from: name, to });
  return getImage(core, caller, to);
}
