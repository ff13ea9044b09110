// How a VM is looked up and presented: the database row joined with its disks, NICs and live state.

import { listNetworkRows } from "../../db/networks.ts";
import { type DiskRow, disksOf, type NicRow, nicsOf, type VmRow, vmByName } from "../../db/vms.ts";
import { Conflict, HypervisorUnavailable, NotFound } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { diskTarget } from "../../xml/domain.ts";
import type { Core } from "../context.ts";
import { redactUrls } from "../net/redact.ts";
import { type NetworkRecord, toRecord } from "../networks/records.ts";
import { domainState } from "./domain.ts";

export interface VmDisk {
  name: string;
  target: string;
  bus: DiskRow["bus"];
  device: "disk" | "cdrom";
  format: string;
  size: number;
  volume: string;
  path: string;
  image: string | null;
}

export interface VmNic {
  network: string;
  mac: string;
  kind: "ovs" | "nat" | null;
  vlan: number | null;
  trunk: number[] | null;
}

/** What a NIC's network looks like, by network name (absent when the network row is gone). */
export type NetworkInfo = Map<string, Pick<NetworkRecord, "kind" | "vlan" | "trunk">>;

export interface BootConfig {
  /** "xml": defined from a user's raw XML, which only PUT /v1/vms/{name}/xml changes. */
  mode: "disk" | "kernel" | "iso" | "network" | "xml";
  kernel_image?: string;
  cmdline?: string;
  iso_image?: string;
  /** The install tree of a network install (mode network). */
  location?: string;
}

export interface Vm {
  id: string;
  name: string;
  /** The project it belongs to ("default" unless created in or moved to another). */
  project: string;
  /** The named size it was made to; null when made from numbers, or resized since. */
  size: string | null;
  uuid: string | null;
  /** berth's record (creating, running, stopped, paused, error, gone), kept in step with libvirt. */
  status: VmRow["status"];
  /** libvirt's live state (running, shutoff, paused, …); "unknown" while the hypervisor is unreachable. */
  state: DomainState | "unknown" | "absent";
  /** The first IPv4 address known for its NICs (shown on a single VM; null in lists and until known). */
  primary_ipv4: string | null;
  vcpus: number;
  memory_mib: number;
  profile: string | null;
  image: string | null;
  boot: BootConfig;
  description: string;
  tags: Record<string, string>;
  ssh_keys: string[];
  disks: VmDisk[];
  nics: VmNic[];
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
}

/** A network install's location may carry credentials: stored as given, shown without them. */
function shownBoot(boot: BootConfig): BootConfig {
  return boot.location === undefined ? boot : { ...boot, location: redactUrls(boot.location) };
}

export function diskView(d: DiskRow): VmDisk {
  return {
    name: d.name,
    target: diskTarget(d.bus, d.unit),
    bus: d.bus,
    device: d.device,
    format: d.format,
    size: d.size,
    volume: d.volume,
    path: d.path,
    image: d.image,
  };
}

export function present(
  row: VmRow,
  disks: DiskRow[],
  nics: NicRow[],
  state: Vm["state"],
  networks: NetworkInfo,
): Vm {
  return {
    id: row.id,
    name: row.name,
    project: row.project ?? DEFAULT_PROJECT,
    size: row.size ?? null,
    uuid: row.uuid,
    status: row.status,
    state,
    primary_ipv4: null,
    vcpus: row.vcpus,
    memory_mib: row.memory_mib,
    profile: row.profile,
    image: row.image,
    boot: shownBoot(JSON.parse(row.boot) as BootConfig),
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    ssh_keys: JSON.parse(row.ssh_keys) as string[],
    disks: disks.map(diskView),
    nics: nics.map((n) => {
      const net = networks.get(n.network);
      return {
        network: n.network,
        mac: n.mac,
        kind: net?.kind ?? null,
        vlan: net?.vlan ?? null,
        trunk: net?.trunk ?? null,
      };
    }),
    created_at: row.created_at,
    started_at: row.started_at,
    stopped_at: row.stopped_at,
    updated_at: row.updated_at,
  };
}

/** The VM's row, or 404. VMs marked gone are still found (so they can be deleted). */
export function findVmRow(core: Core, name: string): VmRow {
  const row = vmByName(core.db, name);
  if (!row) throw new NotFound(`vm ${name} does not exist`);
  return row;
}

export function networkInfo(core: Core): NetworkInfo {
  return new Map(listNetworkRows(core.db).map((r) => [r.name, toRecord(r)]));
}

/** The VM as berth records it, with libvirt's state (one quick call; "unknown" if unreachable). */
export async function loadVm(core: Core, name: string): Promise<Vm> {
  // The row first: a name berth does not know is a 404 before libvirt is asked anything about it.
  const row = findVmRow(core, name);
  let state: Vm["state"] = "unknown";
  try {
    state = (await domainState(core, name)) ?? "absent";
  } catch (e) {
    if (!(e instanceof HypervisorUnavailable)) throw e;
  }
  return presentRow(core, row, state);
}

/** The VM as berth records it, in a state the caller has just brought it to (no call to libvirt). */
export function vmInState(core: Core, name: string, state: Vm["state"]): Vm {
  return presentRow(core, findVmRow(core, name), state);
}

function presentRow(core: Core, row: VmRow, state: Vm["state"]): Vm {
  return present(row, disksOf(core.db, row.id), nicsOf(core.db, row.id), state, networkInfo(core));
}

export const vmTarget = (name: string) => `vm/${name}`;

/** A VM defined from raw XML keeps the user's definition: berth's own rebuilds would overwrite it. */
export function refuseRawXml(row: Pick<VmRow, "name" | "boot">, what: string): void {
  if ((JSON.parse(row.boot) as BootConfig).mode === "xml") {
    throw new Conflict(
      `vm ${row.name} was defined from raw XML: ${what} through PUT /v1/vms/${row.name}/xml`,
    );
  }
}
