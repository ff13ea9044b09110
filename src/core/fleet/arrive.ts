// The destination's half of a migration: an arrival is recorded and its disks pulled (prepare), then made this host's VM once the claim is here (commit), or dropped.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type ArrivalRow, arrivalOf, deleteArrival, putArrival } from "../../db/fleet-moves.ts";
import { type DiskRow, vmByName } from "../../db/vms.ts";
import { Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import type { BootPaths } from "../../xml/boot-paths.ts";
import type { Core } from "../context.ts";
import { detectImage } from "../images/detect.ts";
import { findImage } from "../images/records.ts";
import { storeVolume } from "../images/store.ts";
import { consoleDir, poolDir, stagingDir } from "../paths.ts";
import { Reverter } from "../reverter.ts";
import { ensureRbdPool, rbdBackend, rbdSettings } from "../storage/rbd.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { ensureStoragePool, refreshPool } from "../storage-pool.ts";
import { now } from "../time.ts";
import { domainState } from "../vms/domain.ts";
import { type BootConfig, vmTarget } from "../vms/records.ts";
import { deleteVolume, ownsVolume } from "../vms/volumes.ts";
import { markAsBerth } from "../vms/xml-define.ts";
import { answerError } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { fleetRequest } from "./forward.ts";
import { liveHosts } from "./members.ts";
import { insertMoved, type MovedRecord } from "./moved-record.ts";
import { claimOf } from "./names.ts";

export interface ArrivalRequest {
  migration: string;
  record: MovedRecord;
  /** Live: libvirt brings the disks and the domain; only the record is kept here. */
  live: boolean;
}

/** The disks of a record this host copies: the VM's own volumes (a migration of anything else is refused at the source). */
const ownDisks = (r: { record: MovedRecord }) => r.record.disks.filter((d) => ownsVolume(r.record.vm.id, d));
/** The own disks that are copies this host makes (RBD disks are shared: never this host's to delete on a drop). */
const copiedDisks = (r: { record: MovedRecord }) => ownDisks(r).filter((d) => !isRbdDisk(d));

/** Where an offline arrival's disk `unit` is staged while it is pulled. */
const stagedPath = (core: Core, migration: string, unit: number) =>
  join(stagingDir(core.config), `arrival-${migration}-${unit}`);

/** Migrations whose prepare runs in this process: their arrival is never dropped by a settle meanwhile. */
const preparing = new Set<string>();

/** Refuses an arrival this host cannot take: a VM of that name here, a claim not the sender's, other pool paths or networks. */
async function checkArrival(core: Core, fleet: Fleet, from: string, req: ArrivalRequest): Promise<void> {
  const name = req.record.vm.name;
  if (vmByName(core.db, name) !== null) throw new Conflict(`host ${fleet.name} already has a vm ${name}`);
  const claim = await claimOf(fleet, name);
  if (claim?.host !== from) throw new Conflict(`vm ${name} is not claimed by host ${from}`);
  const dir = poolDir(core.config);
  for (const d of ownDisks(req)) {
    if (isRbdDisk(d)) {
      checkRbdDisk(core, fleet, name, d);
      continue;
    }
    if (d.path !== join(dir, d.volume))
      throw new Conflict(
        `disk ${d.name} of vm ${name} is at ${d.path}; host ${fleet.name}'s pool keeps volumes in ${dir} (pool paths must be the same on every host)`,
      );
  }
  const networks = new Set((await core.hv.call("network.list", {})).map((n) => n.name));
  for (const n of req.record.nics) {
    if (!networks.has(n.network))
      throw new Conflict(`host ${fleet.name} has no network ${n.network} for vm ${name}`);
  }
}

/** An RBD disk is shared storage: this host must use the same Ceph pool (and then has nothing to copy). */
export function checkRbdDisk(core: Core, fleet: Fleet, vm: string, d: DiskRow): void {
  const here = rbdBackend(core.config) ? `${rbdSettings(core.config).cephPool}/${d.volume}` : null;
  if (d.path !== here)
    throw new Conflict(
      `disk ${d.name} of vm ${vm} is RBD image ${d.path}; host ${fleet.name} ${here ? `keeps its RBD disks in another Ceph pool` : 'has no [storage] backend = "rbd"'}`,
    );
}

/** Pulls each of the VM's own volumes from the source into this host's pool, under the same name. */
async function pullDisks(core: Core, fleet: Fleet, from: string, req: ArrivalRequest, r: Reverter) {
  const source = (await liveHosts(fleet)).get(from);
  if (!source) throw new Conflict(`host ${from} is not a live member of the fleet`);
  const pool = await ensureStoragePool(core);
  await mkdir(stagingDir(core.config), { recursive: true });
  const name = req.record.vm.name;
  for (const d of copiedDisks(req)) {
    await deleteVolume(core, pool, d.volume); // left by an earlier try of this migration
    const staged = stagedPath(core, req.migration, d.unit);
    try {
      const path = `/v1/fleet/departures/${encodeURIComponent(name)}/disks/${d.unit}?migration=${req.migration}`;
      const answer = await fleetRequest(fleet, source, "GET", path);
      if (!answer.ok) throw await answerError(answer, `disk ${d.name} of vm ${name} from host ${from}`);
      await Bun.write(staged, answer);
      const detected = await detectImage(staged, d.device === "cdrom" ? "iso" : "disk", `disk ${d.name}`);
      await storeVolume(core, r, pool, staged, d.volume, detected);
    } finally {
      await rm(staged, { force: true });
    }
  }
}

/** Where this host keeps the kernel (and initrd) a kernel-booted VM starts from: its image of the same name. */
export function bootPathsHere(core: Core, fleet: Fleet, record: MovedRecord): BootPaths | undefined {
  const boot = JSON.parse(record.vm.boot) as BootConfig;
  if (boot.mode !== "kernel" || !boot.kernel_image) return undefined;
  try {
    const k = findImage(core, boot.kernel_image);
    return { kernel: k.path, initrd: k.initrd_path ?? undefined };
  } catch (e) {
    throw new Conflict(
      `host ${fleet.name} has no ready image ${boot.kernel_image} for vm ${record.vm.name}`,
      {
        cause: e,
      },
    );
  }
}

/**
 * Prepare: records the arrival and (offline) copies its disks; nothing here is a VM until commit. Answers
 * where this host's boot files are, for a kernel-booted VM (the source rewrites the definition it sends).
 */
export async function prepareArrival(
  core: Core,
  fleet: Fleet,
  from: string,
  req: ArrivalRequest,
): Promise<{ boot?: BootPaths }> {
  await checkArrival(core, fleet, from, req);
  const boot = bootPathsHere(core, fleet, req.record);
  const row: ArrivalRow = {
    vm_name: req.record.vm.name,
    migration: req.migration,
    from_host: from,
    record: JSON.stringify(req.record),
    created_at: now(),
  };
  preparing.add(req.migration);
  await new Reverter()
    .run(async (r) => {
      putArrival(core.db, row);
      r.add("forget the arrival", () => deleteArrival(core.db, row.vm_name, row.migration));
      // The definition logs the console here: QEMU opens it on arrival (live) or at the first start.
      await mkdir(consoleDir(core.config), { recursive: true });
      // RBD disks open through the cephx secret, which libvirt here must hold before the domain arrives.
      if (req.record.disks.some(isRbdDisk)) await ensureRbdPool(core);
      // Live: libvirt creates the disks in this pool's directory, which must then be an active pool.
      if (req.live) await ensureStoragePool(core);
      else await pullDisks(core, fleet, from, req, r);
    })
    .finally(() => preparing.delete(req.migration));
  return boot ? { boot } : {};
}

/** The arrival of `vm` in `migration` (`from`, a host asking, must be where it comes from), its record, and whether the claim is here. */
async function openArrival(core: Core, fleet: Fleet, vm: string, migration: string, from?: string) {
  const a = arrivalOf(core.db, vm);
  if (!a || a.migration !== migration || (from !== undefined && a.from_host !== from))
    throw new NotFound(
      `no arrival of vm ${vm} for migration ${migration}${from ? ` from host ${from}` : ""}`,
    );
  const claimedHere = (await claimOf(fleet, vm))?.host === fleet.name;
  return { a, record: JSON.parse(a.record) as MovedRecord, claimedHere };
}

/** Commit: once the claim is this host's, the domain is defined (offline) and the record inserted. Idempotent. */
export async function commitArrival(
  core: Core,
  fleet: Fleet,
  vm: string,
  migration: string,
  from?: string,
): Promise<void> {
  const { a, record, claimedHere } = await openArrival(core, fleet, vm, migration, from);
  if (!claimedHere) throw new Conflict(`vm ${vm} is not yet claimed by host ${fleet.name}`);
  // A live migration left the domain here already (persistent); an offline one defines it now.
  const defined = (await core.hv.call("domain.list", {})).some((d) => d.name === vm);
  if (!defined) await core.hv.call("domain.define", { xml: record.xml });
  // Disks libvirt copied in are files the pool has not listed yet: refreshed, they are volumes berth can delete.
  else await refreshPool(core, await ensureStoragePool(core));
  // The domain still carries the source installation's mark: this host's reconcile would never take it as its own.
  const state = await domainState(core, vm);
  await markAsBerth(core, vm, record.vm.id, state === "running" || state === "paused");
  insertMoved(core.db, record);
  deleteArrival(core.db, vm, migration);
  log.info("fleet: vm arrived", { vm, from: a.from_host, migration });
  core.events.publish("vm.arrived", vmTarget(vm), { id: record.vm.id, from: a.from_host });
}

/** Drop: the migration did not commit (the claim is not here); the copied volumes, staged files and the arrival go. */
export async function dropArrival(
  core: Core,
  fleet: Fleet,
  vm: string,
  migration: string,
  from?: string,
): Promise<void> {
  const { a, record, claimedHere } = await openArrival(core, fleet, vm, migration, from);
  if (claimedHere) throw new Conflict(`vm ${vm} is already claimed by host ${fleet.name}`);
  // A domain here is a live migration libvirt completed: it is this host's to keep, for the source to hand over.
  if ((await core.hv.call("domain.list", {})).some((d) => d.name === vm))
    throw new Conflict(`vm ${vm}'s domain is already on host ${fleet.name}`);
  // A pull a kill cut short left its staged file (a finished pull removes its own).
  for (const d of ownDisks({ record })) await rm(stagedPath(core, migration, d.unit), { force: true });
  if (vmByName(core.db, vm) === null) {
    const pool = await ensureStoragePool(core);
    for (const d of copiedDisks({ record })) await deleteVolume(core, pool, d.volume);
  }
  deleteArrival(core.db, vm, migration);
  log.info("fleet: arrival dropped", { vm, from: a.from_host, migration });
}

/**
 * Whether the source has given `a` up: it answers that it does not depart it in this migration (it aborted,
 * e.g. when this host was killed mid-way and could not be told) and the claim is still not here. A source
 * that is not live or does not answer has not said so; a prepare running here is never given up.
 */
export async function abandonedBySource(fleet: Fleet, a: ArrivalRow): Promise<boolean> {
  if (preparing.has(a.migration)) return false;
  const source = (await liveHosts(fleet)).get(a.from_host);
  if (!source) return false;
  const path = `/v1/fleet/departures/${encodeURIComponent(a.vm_name)}?migration=${a.migration}`;
  const r = await fleetRequest(fleet, source, "GET", path).catch(() => null);
  // Only an explicit no: a host that does not know the question (404, an older berth) has not said so.
  if (!r?.ok || ((await r.json()) as { departing?: unknown }).departing !== false) return false;
  return (await claimOf(fleet, a.vm_name))?.host !== fleet.name;
}
