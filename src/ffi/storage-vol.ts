// StorageVol: one libvirt storage volume handle (virStorageVol*).
import type { Pointer } from "bun:ffi";
import { VOL_TYPES } from "./constants.ts";
import { check, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { borrowString, takeString } from "./strings.ts";

export interface VolumeInfo {
  type: (typeof VOL_TYPES)[number];
  capacity: number;
  allocation: number;
}

export class StorageVol extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virStorageVolFree(q));
  }

  /** virStorageVolGetName: libvirt owns the string. */
  name(): string {
    return borrowString(sym.virStorageVolGetName(this[RAW]()) as Pointer | null);
  }

  /** virStorageVolGetPath: the returned char* is ours to free. */
  path(): string {
    const p = sym.virStorageVolGetPath(this[RAW]()) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virStorageVolGetInfo into a struct we own (type i32@0, capacity u64@8, allocation u64@16). */
  info(): VolumeInfo {
    const buf = new BigUint64Array(3);
    check(sym.virStorageVolGetInfo(this[RAW](), buf));
    return {
      type: VOL_TYPES[new DataView(buf.buffer).getInt32(0, true)] ?? "file",
      capacity: Number(buf[1]),
      allocation: Number(buf[2]),
    };
  }

  /** virStorageVolGetXMLDesc: the returned char* is ours to free. */
  xml(): string {
    const p = sym.virStorageVolGetXMLDesc(this[RAW](), 0) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virStorageVolDelete: removes the volume's storage. */
  delete(): void {
    check(sym.virStorageVolDelete(this[RAW](), 0));
  }

  /** virStorageVolResize to `bytes` (flags: VolResizeFlags). */
  resize(bytes: number, flags = 0): void {
    check(sym.virStorageVolResize(this[RAW](), BigInt(bytes), flags));
  }
}
