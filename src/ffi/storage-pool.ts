// StoragePool: one libvirt storage pool handle (virStoragePool*) and the volumes in it.
import type { Pointer } from "bun:ffi";
import { check, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { StorageVol } from "./storage-vol.ts";
import { borrowString, cstr, listAll, takeString } from "./strings.ts";

/** Bytes: the pool's size, what its volumes take, and what is free, as libvirt last measured them. */
export interface StoragePoolInfo {
  capacity: number;
  allocation: number;
  available: number;
}

export class StoragePool extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virStoragePoolFree(q));
  }

  /** virStoragePoolGetName: libvirt owns the string. */
  name(): string {
    return borrowString(sym.virStoragePoolGetName(this[RAW]()) as Pointer | null);
  }

  /** virStoragePoolGetXMLDesc: the returned char* is ours to free. */
  xml(flags = 0): string {
    const p = sym.virStoragePoolGetXMLDesc(this[RAW](), flags) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virStoragePoolBuild (e.g. creates a directory pool's directory). */
  build(flags = 0): void {
    check(sym.virStoragePoolBuild(this[RAW](), flags));
  }

  /** virStoragePoolCreate: starts the pool. */
  create(): void {
    check(sym.virStoragePoolCreate(this[RAW](), 0));
  }

  /** virStoragePoolDestroy: stops the pool (its volumes stay). */
  destroy(): void {
    check(sym.virStoragePoolDestroy(this[RAW]()));
  }

  /** virStoragePoolUndefine */
  undefine(): void {
    check(sym.virStoragePoolUndefine(this[RAW]()));
  }

  /** virStoragePoolSetAutostart */
  setAutostart(on: boolean): void {
    check(sym.virStoragePoolSetAutostart(this[RAW](), on ? 1 : 0));
  }

  /** virStoragePoolRefresh: rescans the pool's volumes. */
  refresh(): void {
    check(sym.virStoragePoolRefresh(this[RAW](), 0));
  }

  /** virStoragePoolIsActive */
  isActive(): boolean {
    return check(sym.virStoragePoolIsActive(this[RAW]())) === 1;
  }

  /** virStoragePoolGetInfo into a struct we own (state i32@0, capacity u64@8, allocation u64@16, available u64@24). */
  info(): StoragePoolInfo {
    const buf = new BigUint64Array(4);
    check(sym.virStoragePoolGetInfo(this[RAW](), buf));
    return { capacity: Number(buf[1]), allocation: Number(buf[2]), available: Number(buf[3]) };
  }

  /** virStoragePoolListAllVolumes: each element becomes an owned StorageVol, then the array is freed. */
  listVolumes(): StorageVol[] {
    return listAll(
      (cell) => sym.virStoragePoolListAllVolumes(this[RAW](), cell, 0),
      (p) => new StorageVol(p),
    );
  }

  /** virStorageVolLookupByName */
  volume(name: string): StorageVol {
    const p = sym.virStorageVolLookupByName(this[RAW](), cstr(name)) as Pointer | null;
    if (!p) throw lastError();
    return new StorageVol(p);
  }

  /** virStorageVolCreateXML: a new volume (a linked clone when the XML has a backingStore). */
  createVolume(xml: string, flags = 0): StorageVol {
    const p = sym.virStorageVolCreateXML(this[RAW](), cstr(xml), flags) as Pointer | null;
    if (!p) throw lastError();
    return new StorageVol(p);
  }

  /** virStorageVolCreateXMLFrom: a full copy of `source` into this pool. */
  createVolumeFrom(xml: string, source: StorageVol, flags = 0): StorageVol {
    const p = sym.virStorageVolCreateXMLFrom(this[RAW](), cstr(xml), source[RAW](), flags) as Pointer | null;
    if (!p) throw lastError();
    return new StorageVol(p);
  }
}
