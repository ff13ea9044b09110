// Network: one libvirt virtual network handle (virNetwork*), with its DHCP leases.
import { type Pointer, read } from "bun:ffi";
import { check, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { borrowString, cstr, cstrOrNull, listAll, takeString } from "./strings.ts";

export interface DhcpLease {
  iface: string;
  expiryTime: number;
  type: "ipv4" | "ipv6";
  mac: string;
  ipAddress: string;
  prefix: number;
  hostname: string;
  clientId: string;
}

export class Network extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virNetworkFree(q));
  }

  /** virNetworkGetName: libvirt owns the string. */
  name(): string {
    return borrowString(sym.virNetworkGetName(this[RAW]()) as Pointer | null);
  }

  /** virNetworkGetXMLDesc: the returned char* is ours to free. */
  xml(flags = 0): string {
    const p = sym.virNetworkGetXMLDesc(this[RAW](), flags) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virNetworkCreate: starts a defined network. */
  create(): void {
    check(sym.virNetworkCreate(this[RAW]()));
  }

  /** virNetworkDestroy: stops it (the definition stays). */
  destroy(): void {
    check(sym.virNetworkDestroy(this[RAW]()));
  }

  /** virNetworkUndefine */
  undefine(): void {
    check(sym.virNetworkUndefine(this[RAW]()));
  }

  /** virNetworkUpdate: changes one section of the definition (live and/or config per `flags`). */
  update(command: number, section: number, xml: string, flags: number, parentIndex = -1): void {
    check(sym.virNetworkUpdate(this[RAW](), command, section, parentIndex, cstr(xml), flags));
  }

  /** virNetworkSetAutostart */
  setAutostart(on: boolean): void {
    check(sym.virNetworkSetAutostart(this[RAW](), on ? 1 : 0));
  }

  /** virNetworkGetAutostart */
  autostart(): boolean {
    const out = new Int32Array(1);
    check(sym.virNetworkGetAutostart(this[RAW](), out));
    return out[0] === 1;
  }

  /** virNetworkIsActive */
  isActive(): boolean {
    return check(sym.virNetworkIsActive(this[RAW]())) === 1;
  }

  /** virNetworkIsPersistent */
  isPersistent(): boolean {
    return check(sym.virNetworkIsPersistent(this[RAW]())) === 1;
  }

  /**
   * virNetworkGetDHCPLeases, optionally for one MAC. Each lease struct is copied then freed with
   * virNetworkDHCPLeaseFree, then the array with free. Layout: iface@0, expirytime i64@8,
   * type i32@16, mac@24, iaid@32, ipaddr@40, prefix u32@48, hostname@56, clientid@64.
   */
  dhcpLeases(mac?: string): DhcpLease[] {
    return listAll(
      (cell) => sym.virNetworkGetDHCPLeases(this[RAW](), cstrOrNull(mac), cell, 0),
      (l) => {
        try {
          return {
            iface: borrowString(read.ptr(l, 0) as Pointer),
            expiryTime: Number(read.i64(l, 8)),
            type: read.i32(l, 16) === 1 ? "ipv6" : "ipv4",
            mac: borrowString(read.ptr(l, 24) as Pointer),
            ipAddress: borrowString(read.ptr(l, 40) as Pointer),
            prefix: read.u32(l, 48),
            hostname: borrowString(read.ptr(l, 56) as Pointer),
            clientId: borrowString(read.ptr(l, 64) as Pointer),
          };
        } finally {
          sym.virNetworkDHCPLeaseFree(l);
        }
      },
    );
  }
}
