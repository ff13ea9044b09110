// Hypervisor-wide operations run inside a hypervisor Worker: versions and capabilities.
import {
  type Connection,
  type DomainCapabilitiesQuery,
  formatVersion,
  libraryVersion,
  type NodeInfo,
} from "../../../ffi/index.ts";

export interface HostInfo {
  libvirtVersion: string;
  libraryVersion: string;
  hypervisorVersion: string;
  uri: string;
  hostname: string;
}

export const hostOps = {
  /** A cheap round trip to the daemon (no capability probing), for health checks and reconnects. */
  ping(c: Connection, _a: Record<string, never>): { libvirtVersion: string } {
    return { libvirtVersion: formatVersion(c.libVersion()) };
  },
  /** Versions and identity; the hypervisor version can make libvirt probe QEMU, so it is not a ping. */
  hostInfo(c: Connection, _a: Record<string, never>): HostInfo {
    return {
      libvirtVersion: formatVersion(c.libVersion()),
      libraryVersion: formatVersion(libraryVersion()),
      hypervisorVersion: formatVersion(c.hypervisorVersion()),
      uri: c.uri(),
      hostname: c.hostname(),
    };
  },
  /** The host's CPUs and memory (virNodeGetInfo): what capacity checks bound VMs by. */
  nodeInfo(c: Connection, _a: Record<string, never>): NodeInfo {
    return c.nodeInfo();
  },
  capabilities(c: Connection, _a: Record<string, never>): string {
    return c.capabilities();
  },
  domainCapabilities(c: Connection, a: DomainCapabilitiesQuery): string {
    return c.domainCapabilities(a);
  },
  /** Fault injector: blocks the Worker like a hung daemon would (deadline and replacement tests). */
  "debug.block"(_c: Connection, a: { ms: number }): void {
    Bun.sleepSync(a.ms);
  },
  /** The same, dispatched as a long call (a slow start or copy): which Worker it may take is tested. */
  "debug.blockLong"(_c: Connection, a: { ms: number }): void {
    Bun.sleepSync(a.ms);
  },
};
