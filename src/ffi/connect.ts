// Connection: one libvirt connection (virConnect*) and the lookups, lists and defines hanging off it.
import { JSCallback, type Pointer } from "bun:ffi";
import { DOMAIN_EVENT_ID_LIFECYCLE, LIFECYCLE_EVENTS, type LifecycleEvent } from "./constants.ts";
import { Domain } from "./domain.ts";
import { check, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { Network } from "./network.ts";
import { Secret } from "./secret.ts";
import { StoragePool } from "./storage-pool.ts";
import { StorageVol } from "./storage-vol.ts";
import { borrowString, cstr, cstrOrNull, listAll, outCell, takeString } from "./strings.ts";

export interface DomainCapabilitiesQuery {
  emulator?: string;
  arch?: string;
  machine?: string;
  virtType?: string;
}

/** What virNodeGetInfo says about the host: its active CPUs and its memory. */
export interface NodeInfo {
  cpus: number;
  memoryKiB: number;
}

export interface LifecycleMessage {
  name: string;
  uuid: string;
  event: LifecycleEvent;
  detail: number;
}

/** A registered callback; disposing it deregisters it and releases the JSCallback. */
export interface Subscription extends Disposable {}

function libvirtVersionOf(fn: (conn: Pointer, out: BigUint64Array) => number, conn: Pointer): number {
  const cell = outCell();
  check(fn(conn, cell));
  return Number(cell[0]);
}

export class Connection extends Handle {
  private constructor(p: Pointer) {
    super(p, (q) => sym.virConnectClose(q));
  }

  /** virConnectOpen; blocks for as long as the daemon takes, so hypervisor Workers call it. */
  static open(uri: string): Connection {
    const p = sym.virConnectOpen(cstr(uri)) as Pointer | null;
    if (!p) throw lastError(`cannot open ${uri}`);
    return new Connection(p);
  }

  /** virConnectClose, via dispose. */
  close(): void {
    this.free();
  }

  /** virConnectIsAlive: false once the daemon's socket has gone. */
  isAlive(): boolean {
    return sym.virConnectIsAlive(this[RAW]()) === 1;
  }

  /** virConnectSetKeepAlive; needs an event loop running on this thread (see events.ts). */
  setKeepAlive(intervalSeconds: number, count: number): void {
    check(sym.virConnectSetKeepAlive(this[RAW](), intervalSeconds, count));
  }

  /** virConnectGetLibVersion: libvirt's own version as major*1e6+minor*1e3+release. */
  libVersion(): number {
    return libvirtVersionOf(sym.virConnectGetLibVersion, this[RAW]());
  }

  /** virConnectGetVersion: the hypervisor's version, same encoding. */
  hypervisorVersion(): number {
    return libvirtVersionOf(sym.virConnectGetVersion, this[RAW]());
  }

  /** virConnectGetURI: the returned char* is ours to free. */
  uri(): string {
    const p = sym.virConnectGetURI(this[RAW]()) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virConnectGetHostname: the returned char* is ours to free. */
  hostname(): string {
    const p = sym.virConnectGetHostname(this[RAW]()) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virConnectGetCapabilities: the returned char* is ours to free. */
  capabilities(): string {
    const p = sym.virConnectGetCapabilities(this[RAW]()) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virConnectGetDomainCapabilities: the returned char* is ours to free. */
  domainCapabilities(q: DomainCapabilitiesQuery = {}): string {
    const p = sym.virConnectGetDomainCapabilities(
      this[RAW](),
      cstrOrNull(q.emulator),
      cstrOrNull(q.arch),
      cstrOrNull(q.machine),
      cstrOrNull(q.virtType),
      0,
    ) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /**
   * virNodeGetInfo into a struct we own (LP64: char model[32], unsigned long memory KiB @32, then
   * unsigned int cpus @40, mhz, nodes, sockets, cores, threads).
   */
  nodeInfo(): NodeInfo {
    const buf = new ArrayBuffer(64);
    check(sym.virNodeGetInfo(this[RAW](), new Uint8Array(buf)));
    const v = new DataView(buf);
    return { memoryKiB: Number(v.getBigUint64(32, true)), cpus: v.getUint32(40, true) };
  }

  /** virConnectListAllDomains: each element becomes an owned Domain, then the array is freed. */
  listDomains(flags = 0): Domain[] {
    return listAll(
      (cell) => sym.virConnectListAllDomains(this[RAW](), cell, flags),
      (p) => new Domain(p),
    );
  }

  /** virDomainLookupByName */
  domainByName(name: string): Domain {
    const p = sym.virDomainLookupByName(this[RAW](), cstr(name)) as Pointer | null;
    if (!p) throw lastError();
    return new Domain(p);
  }

  /** virDomainLookupByUUIDString */
  domainByUUID(uuid: string): Domain {
    const p = sym.virDomainLookupByUUIDString(this[RAW](), cstr(uuid)) as Pointer | null;
    if (!p) throw lastError();
    return new Domain(p);
  }

  /** virDomainDefineXMLFlags (flags: DomainDefineFlags). */
  defineDomain(xml: string, flags = 0): Domain {
    const p = sym.virDomainDefineXMLFlags(this[RAW](), cstr(xml), flags) as Pointer | null;
    if (!p) throw lastError();
    return new Domain(p);
  }

  /** virConnectListAllNetworks: each element becomes an owned Network, then the array is freed. */
  listNetworks(flags = 0): Network[] {
    return listAll(
      (cell) => sym.virConnectListAllNetworks(this[RAW](), cell, flags),
      (p) => new Network(p),
    );
  }

  /** virNetworkLookupByName */
  networkByName(name: string): Network {
    const p = sym.virNetworkLookupByName(this[RAW](), cstr(name)) as Pointer | null;
    if (!p) throw lastError();
    return new Network(p);
  }

  /** virNetworkDefineXML: a persistent network (never a transient one, which vanishes on reboot). */
  defineNetwork(xml: string): Network {
    const p = sym.virNetworkDefineXML(this[RAW](), cstr(xml)) as Pointer | null;
    if (!p) throw lastError();
    return new Network(p);
  }

  /** virConnectListAllStoragePools: each element becomes an owned StoragePool, then the array is freed. */
  listStoragePools(flags = 0): StoragePool[] {
    return listAll(
      (cell) => sym.virConnectListAllStoragePools(this[RAW](), cell, flags),
      (p) => new StoragePool(p),
    );
  }

  /** virStoragePoolLookupByName */
  storagePoolByName(name: string): StoragePool {
    const p = sym.virStoragePoolLookupByName(this[RAW](), cstr(name)) as Pointer | null;
    if (!p) throw lastError();
    return new StoragePool(p);
  }

  /** virStoragePoolDefineXML */
  defineStoragePool(xml: string): StoragePool {
    const p = sym.virStoragePoolDefineXML(this[RAW](), cstr(xml), 0) as Pointer | null;
    if (!p) throw lastError();
    return new StoragePool(p);
  }

  /** virSecretDefineXML: defines (or redefines, by its UUID) a secret; its value is set apart. */
  defineSecret(xml: string): Secret {
    const p = sym.virSecretDefineXML(this[RAW](), cstr(xml), 0) as Pointer | null;
    if (!p) throw lastError();
    return new Secret(p);
  }

  /** virSecretLookupByUUIDString */
  secretByUuid(uuid: string): Secret {
    const p = sym.virSecretLookupByUUIDString(this[RAW](), cstr(uuid)) as Pointer | null;
    if (!p) throw lastError();
    return new Secret(p);
  }

  /** virStorageVolLookupByPath */
  storageVolByPath(path: string): StorageVol {
    const p = sym.virStorageVolLookupByPath(this[RAW](), cstr(path)) as Pointer | null;
    if (!p) throw lastError();
    return new StorageVol(p);
  }

  /**
   * virConnectRegisterCloseCallback: `fn(reason)` runs on this thread from the event loop when the
   * connection drops (reason 0 error, 1 EOF, 2 keepalive, 3 client). Needs events.ts's loop.
   */
  onClose(fn: (reason: number) => void): Subscription {
    const cb = new JSCallback((_conn: Pointer, reason: number) => fn(reason), {
      args: ["ptr", "i32", "ptr"],
      returns: "void",
    });
    check(sym.virConnectRegisterCloseCallback(this[RAW](), cb.ptr, null, null));
    return {
      [Symbol.dispose]: () => {
        if (!this.freed) sym.virConnectUnregisterCloseCallback(this[RAW](), cb.ptr);
        cb.close();
      },
    };
  }

  /**
   * virConnectDomainEventRegisterAny(VIR_DOMAIN_EVENT_ID_LIFECYCLE). The domain pointer is
   * libvirt's for the duration of the callback only, so name and UUID are copied inside it.
   */
  onDomainLifecycle(fn: (msg: LifecycleMessage) => void): Subscription {
    const cb = new JSCallback(
      (_conn: Pointer, dom: Pointer, event: number, detail: number) => {
        const uuid = Buffer.alloc(37);
        sym.virDomainGetUUIDString(dom, uuid);
        fn({
          name: borrowString(sym.virDomainGetName(dom) as Pointer | null),
          uuid: uuid.toString("utf8", 0, 36),
          event: LIFECYCLE_EVENTS[event] ?? "defined",
          detail,
        });
      },
      { args: ["ptr", "ptr", "i32", "i32", "ptr"], returns: "void" },
    );
    const id = sym.virConnectDomainEventRegisterAny(
      this[RAW](),
      null,
      DOMAIN_EVENT_ID_LIFECYCLE,
      cb.ptr,
      null,
      null,
    );
    if (id < 0) {
      const err = lastError();
      cb.close();
      throw err;
    }
    return {
      [Symbol.dispose]: () => {
        if (!this.freed) sym.virConnectDomainEventDeregisterAny(this[RAW](), id);
        cb.close();
      },
    };
  }
}

/** virGetVersion: the version of the libvirt library loaded in this process. */
export function libraryVersion(): number {
  const cell = outCell();
  check(sym.virGetVersion(cell, null, null));
  return Number(cell[0]);
}
