// The volumes a VM's raw XML may name, each with the format and backing chain berth records, and checked against its own header.
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type ImageRow, listImages } from "../../db/images.ts";
import { type DiskRow, devicesByVm } from "../../db/vms.ts";
import { absolutePath } from "../../xml/domain-allowlist.ts";
import type { DiskVolume } from "../../xml/user-domain.ts";
import { readVolumeFormat } from "../../xml/volume-read.ts";
import type { Core } from "../context.ts";
import { poolDir } from "../paths.ts";
import { ensureStoragePool, refreshPool } from "../storage-pool.ts";
import { headerProblem } from "../volume-header.ts";

export const realpath = (p: string) => (existsSync(p) ? realpathSync(p) : p);

const formatOf = (f: string): "qcow2" | "raw" => (f === "qcow2" ? "qcow2" : "raw");

/** Ready images by the path of their volume. */
export function readyImagesByPath(core: Core): Map<string, ImageRow> {
  const pool = poolDir(core.config);
  const out = new Map<string, ImageRow>();
  for (const img of listImages(core.db, { status: "ready" }))
    if (img.volume) out.set(join(pool, img.volume), img);
  return out;
}

/** A disk this VM already has: its recorded format, and its image when it is an overlay of one. */
export function ownVolume(row: DiskRow, images: Map<string, ImageRow>, pool: string): DiskVolume | string {
  if (row.image === null) return { format: formatOf(row.format), backing: null, readOnly: false };
  const image = [...images.values()].find((i) => i.name === row.image);
  if (!image) return `${row.path} reads from image ${row.image}, which is not ready`;
  const imagePath = join(pool, image.volume);
  // The image itself attached (a cdrom, a read-only disk) or a linked clone of it.
  if (imagePath === row.path) return { format: formatOf(image.format), backing: null, readOnly: true };
  return {
    format: formatOf(row.format),
    backing: { path: imagePath, format: formatOf(image.format) },
    readOnly: false,
  };
}

/** Paths of the volumes libvirt lists in berth's pool, refreshed once when one of `want` is not among them. */
async function poolVolumes(core: Core, pool: string, want: string[]): Promise<Map<string, string>> {
  const list = async () =>
    new Map((await core.hv.call("volume.list", { pool })).map((v) => [v.path, v.name]));
  const found = await list();
  if (want.every((p) => found.has(p))) return found;
  await refreshPool(core, pool);
  return await list();
}

/** A volume of the pool no VM records and no image is: the VM claims it in the format libvirt sees in it. */
async function freeVolume(
  core: Core,
  pool: string,
  listed: Map<string, string>,
  path: string,
): Promise<DiskVolume | string> {
  const base = basename(path);
  if (base.startsWith("vm-"))
    return `${path} is named like a berth vm volume but is not one of this vm's disks`;
  if (base.startsWith("img-")) return `${path} is named like a berth image volume but is no ready image`;
  const volume = listed.get(path);
  if (volume === undefined) return `${path} is not a volume of berth's storage pool`;
  const format = readVolumeFormat(await core.hv.call("volume.xml", { pool, volume }));
  if (format === "qcow2" || format === "raw") return { format, backing: null, readOnly: false };
  if (format === "iso") return { format: "raw", backing: null, readOnly: false };
  return `${path} is a ${format ?? "unknown"} volume: only qcow2 and raw volumes are attached`;
}

/**
 * For each path a disk names: what berth records of it (this VM's own disks, ready images, or a free
 * volume of the pool), or why it may not be used; every qcow2 header is checked against that record.
 */
export async function diskVolumes(
  core: Core,
  vmId: string,
  paths: string[],
): Promise<Map<string, DiskVolume | string>> {
  const pool = poolDir(core.config);
  const images = readyImagesByPath(core);
  const own = new Map<string, DiskRow>();
  const others = new Set<string>();
  for (const [id, disks] of devicesByVm(core.db).disks) {
    for (const d of disks) {
      if (id === vmId) own.set(d.path, d);
      else others.add(d.path);
    }
  }
  const free = paths.filter((p) => !own.has(p) && !images.has(p) && !others.has(p));
  const poolName = free.length > 0 ? await ensureStoragePool(core) : "";
  const listed = free.length > 0 ? await poolVolumes(core, poolName, free) : new Map<string, string>();
  const out = new Map<string, DiskVolume | string>();
  for (const path of paths) {
    if (out.has(path)) continue;
    if (
      !absolutePath(path) ||
      dirname(path) !== pool ||
      realpath(path) !== join(realpath(pool), basename(path))
    ) {
      out.set(path, `${path} is not a volume of berth's pool directory ${pool}`);
      continue;
    }
    const row = own.get(path);
    const image = images.get(path);
    let v: DiskVolume | string;
    if (row) v = ownVolume(row, images, pool);
    else if (image && image.kind !== "kernel")
      v = { format: formatOf(image.format), backing: null, readOnly: true };
    else if (others.has(path)) v = `${path} is a disk of another vm`;
    else v = await freeVolume(core, poolName, listed, path);
    out.set(path, typeof v === "string" ? v : (headerProblem(path, v.format, v.backing?.path ?? null) ?? v));
  }
  return out;
}
