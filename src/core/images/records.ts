// How images are looked up and presented, and what keeps one from being renamed or deleted.
import { join } from "node:path";
import {
  type ImageKind,
  type ImageRow,
  imageByName,
  listImages as listRows,
  profileSpecs,
  vmBootSpecs,
  vmUsingImageColumn,
} from "../../db/images.ts";
import { Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import { actsAsAdmin, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { redactUrls } from "../net/redact.ts";
import { poolDir } from "../paths.ts";

export type ImageFormat = "qcow2" | "raw" | "iso";

/** A ready image, as the VM code uses it. */
export interface ImageRecord {
  id: string;
  name: string;
  kind: ImageKind;
  format: ImageFormat;
  volume: string;
  path: string;
  initrd_volume: string | null;
  initrd_path: string | null;
  virtual_size: number;
  allocated_size: number;
  source: string;
  sha256: string | null;
  status: "importing" | "ready" | "failed";
  created_at: string;
}

/** An image as the API shows it: format, volume and paths are null until its import finishes. */
export type ImageView = Omit<ImageRecord, "format" | "volume" | "path"> & {
  format: ImageFormat | null;
  volume: string | null;
  path: string | null;
};

export function presentImage(core: Core, row: ImageRow): ImageView {
  const dir = poolDir(core.config);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    format: row.format === "" ? null : (row.format as ImageFormat),
    volume: row.volume === "" ? null : row.volume,
    path: row.volume === "" ? null : join(dir, row.volume),
    initrd_volume: row.initrd_volume,
    initrd_path: row.initrd_volume === null ? null : join(dir, row.initrd_volume),
    virtual_size: row.virtual_size,
    allocated_size: row.allocated_size,
    // Stored as given (berth fetches with its credentials); shown without them.
    source: redactUrls(row.source),
    sha256: row.sha256,
    status: row.status,
    created_at: row.created_at,
  };
}

export function imageRow(core: Core, name: string): ImageRow {
  const row = imageByName(core.db, name);
  if (!row) throw new NotFound(`image ${name} does not exist`);
  return row;
}

/** What a user (not an admin) sees of an image: where it came from and where it lies are the host's business. */
function seenBy(core: Core, caller: Caller | null, view: ImageView): ImageView {
  if (actsAsAdmin(core, caller)) return view;
  return { ...view, path: null, initrd_path: null, source: "", sha256: null };
}

/** Any image, whatever its status (the API's show). */
export function getImage(core: Core, caller: Caller | null, name: string): ImageView {
  return seenBy(core, caller, presentImage(core, imageRow(core, name)));
}

export function listImages(
  core: Core,
  caller: Caller | null,
  filter: { kind?: ImageKind } = {},
): ImageView[] {
  return listRows(core.db, filter).map((r) => seenBy(core, caller, presentImage(core, r)));
}

/** A ready image by name: NotFound when absent, Conflict while it is still importing. */
export function findImage(core: Core, name: string): ImageRecord {
  const view = presentImage(core, imageRow(core, name));
  if (view.status !== "ready" || view.format === null || view.volume === null || view.path === null) {
    throw new Conflict(`image ${name} is not ready (status ${view.status})`);
  }
  return { ...view, format: view.format, volume: view.volume, path: view.path };
}

/** Keys under which a profile spec or a VM's boot settings name an image. */
const IMAGE_KEYS = new Set(["image", "iso_image", "kernel_image", "initrd_image", "base_image"]);

/** True when `value` (parsed JSON) names `name` under an image key, at any depth; exact match only. */
function namesImage(value: unknown, name: string): boolean {
  if (Array.isArray(value)) return value.some((v) => namesImage(v, name));
  if (value === null || typeof value !== "object") return false;
  for (const [k, v] of Object.entries(value)) {
    if (IMAGE_KEYS.has(k) && v === name) return true;
    if (typeof v === "object" && namesImage(v, name)) return true;
  }
  return false;
}

function parsed(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // A row we cannot read might name the image: better to refuse the delete than to guess.
    log.warn("unreadable JSON while checking image use", { what, error: String(e) });
    return undefined;
  }
}

/** Why image `name` cannot go away right now (a VM or profile uses it), or null. */
export function imageInUse(core: Core, name: string): string | null {
  const vm = vmUsingImageColumn(core.db, name);
  if (vm) return `vm ${vm} uses image ${name}`;
  for (const row of vmBootSpecs(core.db)) {
    const boot = parsed(`vm ${row.name} boot`, row.boot);
    if (boot === undefined) return `vm ${row.name} may use image ${name} (its boot settings are unreadable)`;
    if (namesImage(boot, name)) return `vm ${row.name} boots from image ${name}`;
  }
  for (const row of profileSpecs(core.db)) {
    const spec = parsed(`profile ${row.name}`, row.spec);
    if (spec === undefined) return `profile ${row.name} may use image ${name} (its spec is unreadable)`;
    if (namesImage(spec, name)) return `profile ${row.name} uses image ${name}`;
  }
  return null;
}
