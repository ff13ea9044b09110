// Live migration of a running guest: libvirt peer to peer from this host's libvirtd to the destination's, disks copied (local qcow2) or shared (RBD).
import type { FleetConfig } from "../../config/schema.ts";
import { Conflict } from "../../errors.ts";
import { DomainXmlFlags, MigrateFlags } from "../../ffi/constants.ts";
import { type BootPaths, withBootPaths } from "../../xml/boot-paths.ts";
import type { Core } from "../context.ts";
import type { HostRecord } from "./members.ts";

/** LIVE | PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE (0x1b): every disk shared (RBD), nothing to copy, as fleet-reference §2 measured. */
export const SHARED_LIVE_FLAGS =
  MigrateFlags.LIVE | MigrateFlags.PEER2PEER | MigrateFlags.PERSIST_DEST | MigrateFlags.UNDEFINE_SOURCE;

/** The same with NON_SHARED_DISK (0x5b): local disks are copied to the destination. */
export const LIVE_FLAGS = SHARED_LIVE_FLAGS | MigrateFlags.NON_SHARED_DISK;

/**
 * The destination libvirtd as the source libvirtd reaches it (peer to peer: never berth's client), over this host's
 * [fleet] libvirt_transport; with tls libvirt checks the destination's server certificate against this address.
 */
export function destinationUri(
  to: HostRecord,
  fleet: Pick<FleetConfig, "libvirt_transport" | "libvirt_pki_path">,
): string {
  if (to.migration_address === "")
    throw new Conflict(`host ${to.name} has no [fleet] migration_address: it cannot take a live migration`);
  const host = uriHost(to.migration_address);
  if (fleet.libvirt_transport === "tcp") return `qemu+tcp://${host}/system`;
  // The schema allows only [A-Za-z0-9._/-] in the path: nothing to escape in the query.
  const pki = fleet.libvirt_pki_path === "" ? "" : `?pkipath=${fleet.libvirt_pki_path}`;
  return `qemu+tls://${host}/system${pki}`;
}

/** A bare address, bracketed when it is IPv6 (a URI's host). */
const uriHost = (address: string) => (address.includes(":") ? `[${address}]` : address);

/**
 * The tuning a live migration from this host to `to` asks libvirt for: this host's bandwidth limit (0 sends
 * none: unlimited) and, when `to` publishes a migration_port, the migrate_uri its QEMU listens on.
 */
export function migrationParams(
  config: Pick<FleetConfig, "migration_bandwidth_mib">,
  to: HostRecord,
): { bandwidthMib?: number; migrateUri?: string } {
  return {
    ...(config.migration_bandwidth_mib > 0 ? { bandwidthMib: config.migration_bandwidth_mib } : {}),
    ...(to.migration_port
      ? { migrateUri: `tcp://${uriHost(to.migration_address)}:${to.migration_port}` }
      : {}),
  };
}

/**
 * Moves the running domain `name` to `to`; on return it runs there and is no longer defined here. `boot`:
 * where the destination keeps the kernel and initrd (its own image files), written into both definitions it gets.
 */
export async function migrateLive(
  core: Core,
  name: string,
  to: HostRecord,
  boot?: BootPaths,
  sharedDisks = false,
): Promise<void> {
  const xmlOf = (flags: number) => core.hv.call("domain.xml", { name, flags: flags | DomainXmlFlags.SECURE });
  const xml = boot
    ? {
        destXml: withBootPaths(await xmlOf(DomainXmlFlags.MIGRATABLE), boot),
        persistXml: withBootPaths(await xmlOf(DomainXmlFlags.INACTIVE | DomainXmlFlags.MIGRATABLE), boot),
      }
    : {};
  // [fleet] migration_tls: the destination refuses (and the VM stays here) unless both hosts have the certificates.
  const flags =
    (sharedDisks ? SHARED_LIVE_FLAGS : LIVE_FLAGS) | (core.config.fleet.migration_tls ? MigrateFlags.TLS : 0);
  const tuning = migrationParams(core.config.fleet, to);
  await core.hv.call("domain.migrate", {
    name,
    uri: destinationUri(to, core.config.fleet),
    flags,
    ...xml,
    ...tuning,
  });
}
