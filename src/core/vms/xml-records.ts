// berth's record of a VM defined from raw XML: its disks and NICs as libvirt read them, sized from the pool.
import { basename, join } from "node:path";
import { listImages } from "../../db/images.ts";
import type { DiskRow, NicRow } from "../../db/vms.ts";
import { BadRequest, Conflict } from "../../errors.ts";
import { DISK_BUSES, type DiskBus } from "../../xml/domain.ts";
import type { DomainDiskFacts, DomainFacts } from "../../xml/domain-read.ts";
import type { Core } from "../context.ts";
import { DNS_LABEL } from "../names.ts";
import { poolDir } from "../paths.ts";
import { ensureStoragePool, refreshPool } from "../storage-pool.ts";
import { ownsVolume } from "./volumes.ts";

const DNS_LABEL_RE = new RegExp(DNS_LABEL);

/** A disk's bus as libvirt read it, when it is one berth records (scsi, virtio, sata, usb); else null. */
export function recordedBus(d: DomainDiskFacts): DiskBus | null {
  return (DISK_BUSES as readonly string[]).includes(d.bus) ? (d.bus as DiskBus) : null;
}

/** sda → 0, vdb → 1, hdaa → 26: the inverse of diskTarget, so disks keep their sdX (vdX) in berth's view. */
export function targetIndex(target: string): number | null {
  const m = /^(?:sd|vd|hd|xvd)([a-z]+)$/.exec(target);
  if (!m) return null;
  let n = 0;
  for (const c of m[1] as string) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

/** Capacity of each volume of berth's pool by path; refreshed once when a path is not listed yet. */
async function capacities(core: Core, paths: string[]): Promise<Map<string, number>> {
  const pool = await ensureStoragePool(core);
  const list = async () =>
    new Map((await core.hv.call("volume.list", { pool })).map((v) => [v.path, v.capacity]));
  let sizes = await list();
  if (paths.some((p) => !sizes.has(p))) {
    await refreshPool(core, pool);
    sizes = await list();
  }
  return sizes;
}

/**
 * Refuses a new definition that leaves out a volume berth created for this VM: it would be
 * recorded nowhere and never deleted. Remove such a disk through the disks API first.
 */
export function checkOwnDisksKept(
  vmId: string,
  vmName: string,
  existing: DiskRow[],
  facts: DomainFacts,
): void {
  const paths = new Set(facts.disks.map((d) => d.path));
  for (const d of existing) {
    if (ownsVolume(vmId, d) && !paths.has(d.path)) {
      throw new Conflict(
        `disk ${d.name} (${d.volume}) is a volume berth created for vm ${vmName} and the new XML leaves it out; ` +
          `remove it with DELETE /v1/vms/${vmName}/disks/${d.name} first, or keep it in the XML`,
      );
    }
  }
}

/** Disk rows for the XML's disks: rows already recorded for a path keep their name, volume and unit. */
export async function diskRows(
  core: Core,
  vmId: string,
  facts: DomainFacts,
  existing: DiskRow[],
): Promise<DiskRow[]> {
  const disks = facts.disks;
  const sizes = await capacities(
    core,
    disks.map((d) => d.path),
  );
  const pool = poolDir(core.config);
  const images = new Map<string, string>();
  for (const img of listImages(core.db, { status: "ready" })) {
    if (img.volume) images.set(join(pool, img.volume), img.name);
  }
  const byPath = new Map(existing.map((d) => [d.path, d]));
  const units = new Map<DomainDiskFacts, number>();
  const used = new Set<number>();
  // berth's own volumes keep their unit: their name says which unit they belong to.
  for (const d of disks) {
    const old = byPath.get(d.path);
    if (old && ownsVolume(vmId, old) && !used.has(old.unit)) {
      units.set(d, old.unit);
      used.add(old.unit);
    }
  }
  for (const [i, d] of disks.entries()) {
    if (units.has(d)) continue;
    let unit = targetIndex(d.target) ?? d.unit ?? i;
    while (used.has(unit)) unit = unit + 1;
    units.set(d, unit);
    used.add(unit);
  }
  const names = new Set<string>();
  return disks.map((d, i) => {
    const bus = recordedBus(d);
    // The allowlist admits only these buses; libvirt's reading is checked again so no row lies.
    if (bus === null)
      throw new BadRequest(
        `disk ${d.target}: bus ${d.bus || "(none)"} is not one of ${DISK_BUSES.join(", ")}`,
      );
    const old = byPath.get(d.path);
    const unit = units.get(d) as number;
    let name = old?.name ?? (DNS_LABEL_RE.test(d.target) ? d.target : `disk${i}`);
    if (names.has(name)) name = `disk${unit}`;
    names.add(name);
    return {
      vm_id: vmId,
      unit,
      name,
      volume: old?.volume ?? basename(d.path),
      path: d.path,
      // berth's record of a volume's format never follows the XML (the allowlist made them equal anyway).
      format: old?.format ?? d.format,
      device: d.device,
      size: sizes.get(d.path) ?? old?.size ?? 0,
      // A linked clone keeps its image: it is the backing chain berth writes.
      image: old?.image ?? images.get(d.path) ?? null,
      bus,
    };
  });
}

/** NIC rows: the policy allows only interfaces on berth's networks, each with the MAC libvirt gave it. */
export function nicRows(vmId: string, facts: DomainFacts): NicRow[] {
  const nics: NicRow[] = [];
  for (const n of facts.nics) {
    if (n.kind === "network")
      nics.push({ vm_id: vmId, idx: nics.length, network: n.network, mac: n.mac ?? "" });
  }
  return nics;
}
