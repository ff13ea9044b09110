// Kahu's model over core: its scopes and URIs, instance ids, and its views of sizes, profiles, the hypervisor, instances and volumes.
import { vmNameByNumber, vmNumberOf } from "../../db/vm-numbers.ts";
import { HypervisorUnavailable, NotFound } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import type { Core } from "../context.ts";
import { ROOT_DISK } from "../profile-check.ts";
import type { ProfileRecord } from "../profiles.ts";
import type { SizeRecord } from "../sizes.ts";
import { CIDATA } from "../vms/cloud-init.ts";
import type { Vm, VmDisk } from "../vms/index.ts";
import { DEFAULT_ROOT_GB } from "../vms/plan.ts";

const MiB = 1024 ** 2;

/**
 * Where a request came in: `api` is the deployment's base and /v0 (`/kahu/test/v0`); `scope` is `api`
 * or `api/tenant/<id>`. The top level and tenant 0 are one scope, as Kahu's document uses them.
 */
export interface KahuScope {
  api: string;
  scope: string;
  /** The berth project the scope's instances belong to. */
  project: string;
}

/** The top level's tenant: the document creates at /v0/compute and lists the result at /v0/tenant/0. */
export const TOP_TENANT = "0";

/** Tenant 0 and the top level are berth's default project; tenant <id> is the project <id>. */
export function kahuScope(api: string, tenant: string | undefined): KahuScope {
  const project = tenant === undefined || tenant === TOP_TENANT ? DEFAULT_PROJECT : tenant;
  return { api, scope: tenant === undefined ? api : `${api}/tenant/${tenant}`, project };
}

export const sizeUri = (s: KahuScope, name: string) => `${s.api}/compute/size/${name}/`;
export const profileUri = (s: KahuScope, name: string) => `${s.api}/compute/profile/${name}/`;
export const instanceUri = (s: KahuScope, id: number) => `${s.scope}/compute/instance/${id}/`;
export const hypervisorUri = (s: KahuScope) => `${s.api}/hypervisor/instance/${HYPERVISOR_ID}/`;

/** This host is the only hypervisor instance until hosts form a fleet. */
export const HYPERVISOR_ID = "0";

export function kahuSize(s: SizeRecord): { memory: number; ncpu: number } {
  return { memory: s.memory_mib, ncpu: s.vcpus };
}

/** Kahu's guest-iface for a berth disk bus, and back (Kahu's `ide` is SATA: q35 machines have no IDE). */
export const GUEST_IFACES = { virtio: "virtio", scsi: "scsi", ide: "sata", usb: "usb" } as const;
export type GuestIface = keyof typeof GUEST_IFACES;

/** One volume in Kahu's words; `name` only for volumes added after creation, as the document shows. */
export interface KahuVolume {
  bootable: boolean;
  bus: string;
  "guest-iface": string;
  "media-type": "disk" | "cdrom";
  name?: string;
  order: number;
  size: number;
  tag: null;
  type: string;
  "vdi-name": string | null;
}

function volume(
  order: number,
  v: { device: "disk" | "cdrom"; bytes: number; format: string; bus: string; vdi: string | null },
): KahuVolume {
  const iface = Object.entries(GUEST_IFACES).find(([, bus]) => bus === v.bus)?.[0] ?? v.bus;
  return {
    bootable: order === 0,
    bus: "",
    "guest-iface": iface,
    "media-type": v.device,
    order,
    size: Math.ceil(v.bytes / MiB),
    tag: null,
    type: v.format,
    "vdi-name": v.vdi,
  };
}

/** The name a VM's disk has in Kahu: the cloud-init drive is its `config` volume. */
export const kahuVolumeName = (disk: string) => (disk === CIDATA ? "config" : disk);

/** What a Kahu volume is made from: a VM's disk now, or as a snapshot recorded it. */
export type DiskLike = Pick<VmDisk, "name" | "device" | "size" | "format" | "volume"> & { bus?: string };

/** Volumes by Kahu name: root first, the config drive, then the others (named, as the document shows added ones). */
export function kahuVolumes(disks: readonly DiskLike[]): Record<string, KahuVolume> {
  const ordered = [...disks].sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(
    ordered.map((d, order) => {
      const v = volume(order, {
        device: d.device,
        bytes: d.size,
        format: d.format,
        bus: d.bus ?? "scsi",
        vdi: d.volume,
      });
      return [kahuVolumeName(d.name), rank(d) === 2 ? { ...v, name: d.name } : v];
    }),
  );
}

const rank = (d: Pick<VmDisk, "name">) => (d.name === ROOT_DISK ? 0 : d.name === CIDATA ? 1 : 2);

/** A NIC map keyed by network name (a repeated network: name#2, …), each a virtio NIC in order. */
export function kahuNetworks(networks: readonly string[]): Record<string, { order: number; type: "virtio" }> {
  const out: Record<string, { order: number; type: "virtio" }> = {};
  for (const [order, network] of networks.entries()) {
    let key = network;
    for (let n = 2; Object.hasOwn(out, key); n++) key = `${network}#${n}`;
    out[key] = { order, type: "virtio" };
  }
  return out;
}

/** A profile's storage as Kahu showed it: the root disk (from its image or blank) and its other disks. */
export function kahuProfile(p: ProfileRecord): Record<string, unknown> {
  const spec = p.spec;
  const root = volume(0, {
    device: "disk",
    bytes: (spec.root_disk_gb ?? DEFAULT_ROOT_GB) * 1024 * MiB,
    format: "qcow2",
    bus: spec.root_disk_bus ?? "scsi",
    vdi: spec.image ?? null,
  });
  const disks = (spec.disks ?? []).map((d, i) => [
    d.name,
    volume(i + 1, {
      device: d.media ?? "disk",
      bytes: (d.size_gb ?? 0) * 1024 * MiB,
      format: d.media === "cdrom" ? "raw" : "qcow2",
      bus: d.bus ?? "scsi",
      vdi: d.image ?? null,
    }),
  ]);
  return {
    name: p.name,
    network: kahuNetworks(spec.networks ?? []),
    storage: { [ROOT_DISK]: root, ...Object.fromEntries(disks) },
  };
}

/** The instance id of a VM (a number that stays its own for its life, never reused). */
export function instanceId(core: Core, vm: Pick<Vm, "id">): number {
  const n = vmNumberOf(core.db, vm.id);
  if (n === null) throw new NotFound("the VM has no instance id");
  return n;
}

/** An instance id qualified by its fleet host: `<number>@<host>` (numbers are per host). */
export const QUALIFIED_INSTANCE = /^(0|[1-9][0-9]{0,15})@((?!-)[a-z0-9-]{1,63}(?<!-))$/;

/**
 * The berth VM an instance id names; 404 in Kahu's words when there is none. On a fleet `<number>@<this
 * host>` names this host's instance (another host's is forwarded there before any route runs).
 */
export function vmOfInstance(core: Core, id: string): string {
  const qualified = QUALIFIED_INSTANCE.exec(id);
  const own = qualified !== null && qualified[2] === core.fleet?.name;
  const num = own ? (qualified?.[1] as string) : id;
  const name = /^(0|[1-9][0-9]{0,15})$/.test(num) ? vmNameByNumber(core.db, Number(num)) : null;
  if (name === null) throw new NotFound(`instance ${id} does not exist`);
  return name;
}

export interface KahuHypervisor {
  name: string;
  type: string;
  arch: string;
  serialNumber: string;
  physicalStorage: never[];
  physicalNetwork: never[];
}

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ppc64: "ppc64le", s390x: "s390x" };

/** This host as Kahu's hypervisor instance 0 (its name from libvirt when it answers). */
export async function kahuHypervisor(core: Core): Promise<KahuHypervisor> {
  // In a fleet the hypervisor instances are the fleet's hosts, named as the fleet names them.
  let name = core.fleet?.name ?? "";
  try {
    if (!core.fleet) name = (await core.hv.call("hostInfo", {})).hostname;
  } catch (e) {
    if (!(e instanceof HypervisorUnavailable)) throw e;
  }
  return {
    name,
    type: core.domainType(),
    arch: ARCH[process.arch] ?? process.arch,
    serialNumber: "",
    physicalStorage: [],
    physicalNetwork: [],
  };
}

/** The id a `hypervisor` value names: the tail of any value ending in hypervisor/instance/<id>[/], else null. */
export function hypervisorIdOf(value: string): string | null {
  return /(?:^|\/)hypervisor\/instance\/([^/]+)\/?$/.exec(value)?.[1] ?? null;
}

/** Whether a create's `hypervisor` names this host: any value ending in hypervisor/instance/<0 or its name>[/]. */
export function namesThisHypervisor(value: string, hostname: string): boolean {
  const id = hypervisorIdOf(value);
  return id !== null && (id === HYPERVISOR_ID || (hostname !== "" && id === hostname));
}

/** RFC 3339 with nine fraction digits in the host's local offset (Z at UTC), as Go printed Kahu's snapshot times. */
export function kahuTimestamp(iso: string): string {
  const t = new Date(iso);
  const offsetMin = -t.getTimezoneOffset();
  const local = new Date(t.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
  if (offsetMin === 0) return `${local}000000Z`;
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${local}000000${sign}${hh}:${mm}`;
}
