// The source's half of a migration: disks staged for the destination to pull, and the end of a departure (finished once the claim moved, or aborted).
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type DepartureRow, deleteDeparture, departureOf } from "../../db/fleet-moves.ts";
import { type DiskRow, deleteVm, disksOf, vmByName } from "../../db/vms.ts";
import { NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { stagingDir } from "../paths.ts";
import { runQemuImg } from "../qemu-img.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { removeDomain } from "../vms/domain.ts";
import { vmTarget } from "../vms/records.ts";
import { deleteVolume, ownsVolume } from "../vms/volumes.ts";
import type { Fleet } from "./fleet.ts";
import { fleetRequest } from "./forward.ts";
import { liveHosts } from "./members.ts";

const stagedPath = (core: Core, migration: string, unit: number) =>
  join(stagingDir(core.config), `departure-${migration}-${unit}.qcow2`);

/** The file the destination pulls for `d`: a qcow2 flattened (no backing image: the destination may lack it), an ISO as is. */
function sourceFile(core: Core, migration: string, d: DiskRow): string {
  return d.format === "qcow2" ? stagedPath(core, migration, d.unit) : d.path;
}

/** Flattens each own qcow2 disk of a stopped VM into the staging directory; returns what to remove afterwards. */
export async function stageDisks(core: Core, migration: string, disks: DiskRow[]): Promise<string[]> {
  await mkdir(stagingDir(core.config), { recursive: true });
  const staged: string[] = [];
  for (const d of disks) {
    if (d.format !== "qcow2") continue;
    const out = stagedPath(core, migration, d.unit);
    staged.push(out);
    await runQemuImg(["convert", "-O", "qcow2", d.path, out]);
  }
  return staged;
}

export async function unstage(files: string[]): Promise<void> {
  for (const f of files) await rm(f, { force: true });
}

/** Whether this host departs `vm` to host `from` (the asking host) in `migration`: a destination asks before it drops its arrival. */
export function isDeparting(core: Core, from: string, vm: string, migration: string): boolean {
  const dep = departureOf(core.db, vm);
  return dep?.to_host === from && dep.migration === migration;
}

/** Removes the files staged for a departure a kill cut short (the operation's own end removes them otherwise). */
async function unstageDeparture(core: Core, dep: DepartureRow, disks: DiskRow[]): Promise<void> {
  await unstage(disks.map((d) => stagedPath(core, dep.migration, d.unit)));
}

/** The staged file of disk `unit` of a VM departing to host `from` (the asking host) in `migration`; 404 otherwise. */
export function departureDisk(core: Core, from: string, vm: string, unit: number, migration: string): string {
  const row = vmByName(core.db, vm);
  if (!row || !isDeparting(core, from, vm, migration))
    throw new NotFound(`no departure of vm ${vm} to host ${from} for migration ${migration}`);
  const d = disksOf(core.db, row.id).find((x) => x.unit === unit && ownsVolume(row.id, x));
  if (!d) throw new NotFound(`vm ${vm} has no own disk at unit ${unit}`);
  return sourceFile(core, migration, d);
}

/** The claim is the destination's: the VM leaves this host (domain, own volumes, record), then the departure. */
export async function finishDeparture(core: Core, dep: DepartureRow): Promise<void> {
  const row = vmByName(core.db, dep.vm_name);
  if (row) {
    await unstageDeparture(core, dep, disksOf(core.db, row.id));
    await removeDomain(core, dep.vm_name);
    const pool = await ensureStoragePool(core);
    // RBD disks are shared: the destination runs on them now.
    for (const d of disksOf(core.db, row.id))
      if (ownsVolume(row.id, d) && !isRbdDisk(d)) await deleteVolume(core, pool, d.volume);
    deleteVm(core.db, row.id);
  }
  deleteDeparture(core.db, dep.vm_name, dep.migration);
  log.info("fleet: vm departed", { vm: dep.vm_name, to: dep.to_host, migration: dep.migration });
  core.events.publish("vm.departed", vmTarget(dep.vm_name), { id: row?.id ?? null, to: dep.to_host });
}

/** The claim stayed here: the departure ends and the destination is told to drop what it prepared (it also drops it on its own). */
export async function abortDeparture(core: Core, fleet: Fleet, dep: DepartureRow): Promise<void> {
  const row = vmByName(core.db, dep.vm_name);
  if (row) await unstageDeparture(core, dep, disksOf(core.db, row.id));
  deleteDeparture(core.db, dep.vm_name, dep.migration);
  await tellDestination(fleet, dep, "DELETE", "");
  log.info("fleet: migration abandoned", { vm: dep.vm_name, to: dep.to_host, migration: dep.migration });
}

/** Best effort: a step the destination also takes by itself (commit or drop) when this call does not reach it. */
export async function tellDestination(
  fleet: Fleet,
  dep: DepartureRow,
  method: "POST" | "DELETE",
  suffix: "" | "/commit",
): Promise<void> {
  try {
    const to = (await liveHosts(fleet)).get(dep.to_host);
    if (!to) return;
    const path = `/v1/fleet/arrivals/${encodeURIComponent(dep.vm_name)}${suffix}?migration=${dep.migration}`;
    const r = await fleetRequest(fleet, to, method, path, undefined, 60_000);
    if (!r.ok)
      log.warn("fleet: destination refused a migration step", {
        vm: dep.vm_name,
        status: r.status,
        body: await r.text(),
      });
  } catch (e) {
    log.warn("fleet: destination not told; its settle does it", { vm: dep.vm_name, error: String(e) });
  }
}
