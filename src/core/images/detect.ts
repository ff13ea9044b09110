// What a staged file holds: its format and sizes (qemu-img info), and whether an ISO really is one.

import { open, stat } from "node:fs/promises";
import type { ImageKind } from "../../db/images.ts";
import { AppError } from "../../errors.ts";
import { runQemuImg } from "../qemu-img.ts";
import { readVolumeHeader } from "../volume-header.ts";
import type { ImageFormat } from "./records.ts";

export interface Detected {
  format: ImageFormat;
  virtualSize: number;
  /** Bytes the file takes on disk (holes excluded). */
  allocatedSize: number;
}

/** ISO 9660: the primary volume descriptor at sector 16 (2048-byte sectors) starts with 1 then "CD001". */
const ISO_MAGIC_OFFSET = 32769;
const ISO_MAGIC = "CD001";

export function invalidImage(message: string): AppError {
  return new AppError(400, "invalid_image", message);
}

interface QemuImgInfo {
  format?: string;
  "virtual-size"?: number;
  "backing-filename"?: string;
  "format-specific"?: { type?: string; data?: { "data-file"?: string } };
}

/** Runs `qemu-img info --output=json` on `file` (argv, no shell), bounded in time. */
export async function qemuImgInfo(file: string): Promise<QemuImgInfo> {
  const out = await runQemuImg(["info", "--output=json", file]);
  try {
    return JSON.parse(out) as QemuImgInfo;
  } catch (cause) {
    throw new AppError(500, "internal", "qemu-img info printed something other than JSON", { cause });
  }
}

/**
 * What a qcow2 header says about other files, read from the bytes themselves (core/volume-header.ts,
 * the one reader of headers) before qemu-img opens anything: a backing file, an external data file,
 * or neither. Null when the file is no qcow2.
 */
export function qcow2References(file: string): "backing" | "data-file" | "none" | null {
  const h = readVolumeHeader(file);
  if (h === null) throw invalidImage(`${file} is not a regular file`);
  if (h === "missing" || h.format !== "qcow2") return null;
  if (h.backing !== null) return "backing";
  return h.dataFile !== null ? "data-file" : "none";
}

export async function hasIsoMagic(file: string): Promise<boolean> {
  await using fh = await open(file, "r");
  const buf = Buffer.alloc(ISO_MAGIC.length);
  const { bytesRead } = await fh.read(buf, 0, buf.length, ISO_MAGIC_OFFSET);
  return bytesRead === buf.length && buf.toString("latin1") === ISO_MAGIC;
}

/**
 * Checks that `file` is what `kind` promises. Disks must be qcow2 or raw, and a qcow2 must stand
 * alone: a backing file or external data file would let a guest read whatever host file it names.
 */
export async function detectImage(file: string, kind: ImageKind, label: string): Promise<Detected> {
  const st = await stat(file);
  if (st.size === 0) throw invalidImage(`${label} is empty`);
  const allocatedSize = st.blocks * 512;
  if (kind === "kernel") return { format: "raw", virtualSize: st.size, allocatedSize };
  const refs = qcow2References(file);
  if (refs === "backing") throw invalidImage(`${label} has a backing file; import a standalone image`);
  if (refs === "data-file") {
    throw invalidImage(`${label} uses an external data file; import a standalone image`);
  }
  const info = await qemuImgInfo(file);
  const format = info.format ?? "unknown";
  if (kind === "iso") {
    if (format !== "raw" || !(await hasIsoMagic(file))) {
      throw invalidImage(`${label} is not an ISO 9660 image (no CD001 signature; qemu-img sees ${format})`);
    }
    return { format: "iso", virtualSize: st.size, allocatedSize };
  }
  if (format !== "qcow2" && format !== "raw") {
    throw invalidImage(
      `${label} is a ${format} image; disk images must be qcow2 or raw (convert it with qemu-img)`,
    );
  }
  if (info["backing-filename"] !== undefined) {
    throw invalidImage(
      `${label} has a backing file (${info["backing-filename"]}); import a standalone image`,
    );
  }
  if (info["format-specific"]?.data?.["data-file"] !== undefined) {
    throw invalidImage(`${label} uses an external data file; import a standalone image`);
  }
  const virtualSize = format === "raw" ? st.size : (info["virtual-size"] ?? 0);
  if (virtualSize <= 0) throw invalidImage(`${label}: qemu-img reports no virtual size`);
  return { format, virtualSize, allocatedSize };
}
