// Domain: one libvirt domain handle (virDomain*), with lifecycle, devices, metadata and snapshots.
import { type Pointer, ptr, read } from "bun:ffi";
import {
  AddressSource,
  type AddressSourceName,
  BlockResizeFlags,
  type DomainState,
  domainStateName,
  MetadataType,
} from "./constants.ts";
import { check, ErrorCode, LibvirtError, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { DomainSnapshot } from "./snapshot.ts";
import { borrowString, cstr, listAll, takeString } from "./strings.ts";

export interface DomainInfo {
  state: DomainState;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface InterfaceAddresses {
  name: string;
  mac: string;
  addresses: { type: "ipv4" | "ipv6"; address: string; prefix: number }[];
}

/** The typed parameters berth passes to virDomainMigrateToURI3; absent ones are not sent. */
export interface MigrateParams {
  destXml?: string | undefined;
  persistXml?: string | undefined;
  migrateUri?: string | undefined;
  bandwidthMib?: number | undefined;
}

export class Domain extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virDomainFree(q));
  }

  /** virDomainGetName: libvirt owns the string. */
  name(): string {
    return borrowString(sym.virDomainGetName(this[RAW]()) as Pointer | null);
  }

  /** virDomainGetUUIDString into a 37-byte buffer we own. */
  uuid(): string {
    const buf = Buffer.alloc(37);
    check(sym.virDomainGetUUIDString(this[RAW](), buf));
    return buf.toString("utf8", 0, 36);
  }

  /** virDomainGetID: -1 (as unsigned) when the domain is not running. */
  id(): number | null {
    const id = sym.virDomainGetID(this[RAW]());
    return id === 0xffffffff ? null : id;
  }

  /** virDomainIsActive */
  isActive(): boolean {
    return check(sym.virDomainIsActive(this[RAW]())) === 1;
  }

  /** virDomainIsPersistent */
  isPersistent(): boolean {
    return check(sym.virDomainIsPersistent(this[RAW]())) === 1;
  }

  /** virDomainGetState: state and libvirt's reason code for it. */
  state(): { state: DomainState; reason: number } {
    const st = new Int32Array(2);
    check(sym.virDomainGetState(this[RAW](), st, st.subarray(1), 0));
    return { state: domainStateName(st[0] ?? 0), reason: st[1] ?? 0 };
  }

  /** virDomainGetInfo into a virDomainInfo struct we own (state u8@0, maxMem@8, memory@16, nrVirtCpu u16@24, cpuTime@32). */
  info(): DomainInfo {
    const buf = new BigUint64Array(5);
    check(sym.virDomainGetInfo(this[RAW](), buf));
    const bytes = new DataView(buf.buffer);
    return {
      state: domainStateName(bytes.getUint8(0)),
      maxMemoryKiB: Number(buf[1]),
      memoryKiB: Number(buf[2]),
      vcpus: bytes.getUint16(24, true),
      cpuTimeNs: Number(buf[4]),
    };
  }

  /** virDomainGetJobInfo into a virDomainJobInfo we own (int type@0, then 11 u64): whether a job (a migration) runs. */
  hasJob(): boolean {
    const buf = new BigUint64Array(12);
    check(sym.virDomainGetJobInfo(this[RAW](), buf));
    return new DataView(buf.buffer).getInt32(0, true) !== 0; // VIR_DOMAIN_JOB_NONE
  }

  /** virDomainGetXMLDesc: the returned char* is ours to free. */
  xml(flags = 0): string {
    const p = sym.virDomainGetXMLDesc(this[RAW](), flags) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virDomainCreateWithFlags */
  create(flags = 0): void {
    check(sym.virDomainCreateWithFlags(this[RAW](), flags));
  }

  /** virDomainDestroyFlags */
  destroy(flags = 0): void {
    check(sym.virDomainDestroyFlags(this[RAW](), flags));
  }

  /** virDomainShutdownFlags: asks the guest (ACPI by default) and returns at once. */
  shutdown(flags = 0): void {
    check(sym.virDomainShutdownFlags(this[RAW](), flags));
  }

  /** virDomainReboot */
  reboot(flags = 0): void {
    check(sym.virDomainReboot(this[RAW](), flags));
  }

  /** virDomainReset: a hard reset, like the button. */
  reset(): void {
    check(sym.virDomainReset(this[RAW](), 0));
  }

  /** virDomainSuspend */
  suspend(): void {
    check(sym.virDomainSuspend(this[RAW]()));
  }

  /** virDomainResume */
  resume(): void {
    check(sym.virDomainResume(this[RAW]()));
  }

  /** virDomainManagedSave */
  managedSave(flags = 0): void {
    check(sym.virDomainManagedSave(this[RAW](), flags));
  }

  /** virDomainHasManagedSaveImage */
  hasManagedSave(): boolean {
    return check(sym.virDomainHasManagedSaveImage(this[RAW](), 0)) === 1;
  }

  /** virDomainManagedSaveRemove */
  removeManagedSave(): void {
    check(sym.virDomainManagedSaveRemove(this[RAW](), 0));
  }

  /**
   * virDomainMigrateToURI3 to the libvirtd at `dconnuri` (PEER2PEER: the destination picks its addresses from
   * its qemu.conf); `destXml` (VIR_MIGRATE_PARAM_DEST_XML) and `persistXml` (VIR_MIGRATE_PARAM_PERSIST_XML)
   * are the running and the persistent definitions the destination gets; `bandwidthMib`
   * (VIR_MIGRATE_PARAM_BANDWIDTH, MiB/s, also each disk copy's) limits the stream; `migrateUri`
   * (VIR_MIGRATE_PARAM_URI) is where the destination QEMU listens for it.
   */
  migrateToURI3(dconnuri: string, flags: number, params: MigrateParams = {}): void {
    // virTypedParamsAdd* grow an array libvirt allocates; this thread frees it with virTypedParamsFree.
    const list = new BigUint64Array(1);
    const counts = new Int32Array(2); // nparams, maxparams
    const head = () => (list[0] === 0n ? null : (read.ptr(ptr(list), 0) as Pointer));
    try {
      for (const [field, value] of [
        ["destination_xml", params.destXml],
        ["persistent_xml", params.persistXml],
        ["migrate_uri", params.migrateUri],
      ] as const) {
        if (value === undefined) continue;
        const rc = sym.virTypedParamsAddString(
          ptr(list),
          ptr(counts),
          ptr(counts, 4),
          cstr(field),
          cstr(value),
        );
        if (rc < 0) throw lastError("virTypedParamsAddString failed");
      }
      if (params.bandwidthMib !== undefined) {
        const rc = sym.virTypedParamsAddULLong(
          ptr(list),
          ptr(counts),
          ptr(counts, 4),
          cstr("bandwidth"),
          BigInt(params.bandwidthMib),
        );
        if (rc < 0) throw lastError("virTypedParamsAddULLong failed");
      }
      const rc = sym.virDomainMigrateToURI3(this[RAW](), cstr(dconnuri), head(), counts[0] ?? 0, flags);
      if (rc < 0) throw lastError("virDomainMigrateToURI3 failed");
    } finally {
      const p = head();
      if (p !== null) sym.virTypedParamsFree(p, counts[0] ?? 0);
    }
  }

  /** virDomainUndefineFlags (see DomainUndefineFlags). */
  undefine(flags = 0): void {
    check(sym.virDomainUndefineFlags(this[RAW](), flags));
  }

  /** virDomainSetAutostart */
  setAutostart(on: boolean): void {
    check(sym.virDomainSetAutostart(this[RAW](), on ? 1 : 0));
  }

  /** virDomainGetMetadata for an element in namespace `uri`; null when the domain has none. */
  metadata(uri: string, flags = 0): string | null {
    const p = sym.virDomainGetMetadata(this[RAW](), MetadataType.ELEMENT, cstr(uri), flags) as Pointer | null;
    if (p) return takeString(p);
    const err = lastError();
    if (err.libvirtCode === ErrorCode.NO_DOMAIN_METADATA) return null;
    throw err;
  }

  /** virDomainSetMetadata: stores `xml` as element `key:` in namespace `uri`; null removes it. */
  setMetadata(uri: string, key: string, xml: string | null, flags = 0): void {
    const body = xml === null ? null : cstr(xml);
    check(sym.virDomainSetMetadata(this[RAW](), MetadataType.ELEMENT, body, cstr(key), cstr(uri), flags));
  }

  /** virDomainAttachDeviceFlags (flags: Affect). */
  attachDevice(xml: string, flags = 0): void {
    check(sym.virDomainAttachDeviceFlags(this[RAW](), cstr(xml), flags));
  }

  /** virDomainDetachDeviceFlags (flags: Affect). */
  detachDevice(xml: string, flags = 0): void {
    check(sym.virDomainDetachDeviceFlags(this[RAW](), cstr(xml), flags));
  }

  /** virDomainUpdateDeviceFlags (flags: Affect). */
  updateDevice(xml: string, flags = 0): void {
    check(sym.virDomainUpdateDeviceFlags(this[RAW](), cstr(xml), flags));
  }

  /** virDomainBlockResize of a running domain's disk (target like "sda" or a path), in bytes. */
  blockResize(disk: string, bytes: number): void {
    check(sym.virDomainBlockResize(this[RAW](), cstr(disk), BigInt(bytes), BlockResizeFlags.BYTES));
  }

  /**
   * virDomainInterfaceAddresses from one source. The array and every virDomainInterface are
   * ours: each is copied, then freed with virDomainInterfaceFree, then the array with free.
   * Layout: name@0, hwaddr@8, naddrs u32@16, addrs@24; each address: type i32@0, addr@8, prefix u32@16.
   */
  interfaceAddresses(source: AddressSourceName): InterfaceAddresses[] {
    return listAll(
      (cell) => sym.virDomainInterfaceAddresses(this[RAW](), cell, AddressSource[source], 0),
      (iface) => {
        try {
          const naddrs = read.u32(iface, 16);
          const addrs = read.ptr(iface, 24) as Pointer;
          const addresses: InterfaceAddresses["addresses"] = [];
          for (let i = 0; i < naddrs; i++) {
            const at = i * 24;
            addresses.push({
              type: read.i32(addrs, at) === 1 ? "ipv6" : "ipv4",
              address: borrowString(read.ptr(addrs, at + 8) as Pointer),
              prefix: read.u32(addrs, at + 16),
            });
          }
          return {
            name: borrowString(read.ptr(iface, 0) as Pointer),
            mac: borrowString(read.ptr(iface, 8) as Pointer),
            addresses,
          };
        } finally {
          sym.virDomainInterfaceFree(iface);
        }
      },
    );
  }

  /** virDomainSnapshotCreateXML */
  createSnapshot(xml: string, flags = 0): DomainSnapshot {
    const p = sym.virDomainSnapshotCreateXML(this[RAW](), cstr(xml), flags) as Pointer | null;
    if (!p) throw lastError();
    return new DomainSnapshot(p);
  }

  /** virDomainListAllSnapshots: each element becomes an owned DomainSnapshot, then the array is freed. */
  listSnapshots(flags = 0): DomainSnapshot[] {
    return listAll(
      (cell) => sym.virDomainListAllSnapshots(this[RAW](), cell, flags),
      (p) => new DomainSnapshot(p),
    );
  }

  /** virDomainSnapshotLookupByName */
  snapshot(name: string): DomainSnapshot {
    const p = sym.virDomainSnapshotLookupByName(this[RAW](), cstr(name), 0) as Pointer | null;
    if (!p) throw lastError();
    return new DomainSnapshot(p);
  }
}

export function isNoSuchDomain(e: unknown): boolean {
  return e instanceof LibvirtError && e.libvirtCode === ErrorCode.NO_DOMAIN;
}
