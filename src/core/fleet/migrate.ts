// POST /v1/vms/{name}/migrate: moves a VM and its record to another host of the fleet as an operation; the name claim's hand-over is the commit point.
import { type DepartureRow, departureOf, insertDeparture } from "../../db/fleet-moves.ts";
import { snapshotsOf } from "../../db/snapshots.ts";
import { disksOf, type VmRow } from "../../db/vms.ts";
import { BadRequest, Conflict } from "../../errors.ts";
import { DomainXmlFlags } from "../../ffi/constants.ts";
import type { BootPaths } from "../../xml/boot-paths.ts";
import { assertVmActor, type Caller, ownerNameOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { newId } from "../names.ts";
import type { OpContext, Operation } from "../operations.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { now } from "../time.ts";
import { domainState } from "../vms/domain.ts";
import { findVmRow, vmTarget } from "../vms/records.ts";
import { ownsVolume } from "../vms/volumes.ts";
import { abortDeparture, finishDeparture, stageDisks, tellDestination, unstage } from "./depart.ts";
import { answerError, NotInFleet } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { fleetRequest } from "./forward.ts";
import { type HostRecord, liveHosts } from "./members.ts";
import { migrateLive } from "./migrate-live.ts";
import { recordOf } from "./moved-record.ts";
import { handOver } from "./names.ts";

export interface MigrateRequest {
  host: string;
  /** Omitted: live when the VM runs, offline when it is stopped. */
  live?: boolean;
}

/** PVC's last_node on the moved record: set (a temporary migrate keeps the first origin), clear (move, unmigrate), or as it was. */
export type LastHost = "set" | "clear" | "keep";

/** A migration older than this never commits (the destination drops what it prepared after twice as long). */
export const MAX_MIGRATION_MS = 10 * 60_000;

/** What a VM must be for a migration: only its own volumes (no image ISO or attached disk), no snapshots, not mid-create. */
function checkMovable(core: Core, row: VmRow): void {
  if (row.status === "creating") throw new Conflict(`vm ${row.name} is still being created`);
  const dep = departureOf(core.db, row.name);
  if (dep)
    throw new Conflict(
      `vm ${row.name} has a migration to host ${dep.to_host} that is being settled; try again shortly`,
    );
  const foreign = disksOf(core.db, row.id).filter((d) => !ownsVolume(row.id, d));
  if (foreign.length > 0)
    throw new Conflict(
      `vm ${row.name} uses disks that are not its own (${foreign.map((d) => d.name).join(", ")}): detach them before migrating`,
    );
  if (snapshotsOf(core.db, row.id).length > 0)
    throw new Conflict(`vm ${row.name} has snapshots: delete them before migrating (they do not move)`);
}

/** Whether the migration is live, from the VM's state now and what was asked; a mismatch is a 409 that says why. */
async function liveOrNot(core: Core, name: string, asked: boolean | undefined): Promise<boolean> {
  const state = await domainState(core, name);
  if (state === null) throw new Conflict(`vm ${name} has no domain in libvirt`);
  const running = state === "running" || state === "blocked";
  if (!running && state !== "shutoff" && state !== "crashed")
    throw new Conflict(
      `vm ${name} is ${state}: only a running VM (live) or a stopped one (offline) migrates`,
    );
  if (asked === false && running) throw new Conflict(`vm ${name} is running: stop it, or migrate it live`);
  if (asked === true && !running)
    throw new Conflict(`vm ${name} is not running: migrate it offline (live: false)`);
  // A saved memory image stays with this host's libvirt: moved offline, the VM would boot afresh.
  if (!running && (await core.hv.call("domain.hasManagedSave", { name })))
    throw new Conflict(`vm ${name} has a saved state: start it and migrate it live`);
  return running;
}

async function destination(fleet: Fleet, host: string): Promise<HostRecord> {
  if (host === fleet.name) throw new Conflict(`vm is already on host ${host}`);
  const to = (await liveHosts(fleet)).get(host);
  if (!to) throw new BadRequest(`host ${host} is not a live member of the fleet`);
  return to;
}

export async function migrateVm(
  core: Core,
  caller: Caller | null,
  name: string,
  req: MigrateRequest,
  lastHost: LastHost = "keep",
): Promise<Operation> {
  assertVmActor(core, caller, name);
  const row = findVmRow(core, name);
  const fleet = core.fleet;
  if (!fleet)
    throw new NotInFleet(`cannot migrate vm ${name}: this host is not in a fleet (no [fleet] etcd)`);
  core.locks.ensureFree(vmTarget(name));
  checkMovable(core, row);
  await destination(fleet, req.host);
  await liveOrNot(core, name, req.live);
  return core.ops.start(
    "vm.migrate",
    vmTarget(name),
    (ctx) => runMigration(core, fleet, name, req, lastHost, ctx),
    {
      lock: true,
      owner: ownerNameOf(core, caller),
    },
  );
}

async function runMigration(
  core: Core,
  fleet: Fleet,
  name: string,
  req: MigrateRequest,
  lastHost: LastHost,
  ctx: OpContext,
) {
  // Again under the lock: the VM or the fleet may have changed since the checks.
  const row = findVmRow(core, name);
  checkMovable(core, row);
  const to = await destination(fleet, req.host);
  const live = await liveOrNot(core, name, req.live);
  const xml = await core.hv.call("domain.xml", {
    name,
    flags: DomainXmlFlags.INACTIVE | DomainXmlFlags.SECURE,
  });
  const record = recordOf(core.db, row, xml);
  if (lastHost !== "keep") record.vm.last_host = lastHost === "set" ? (row.last_host ?? fleet.name) : null;
  const dep: DepartureRow = {
    vm_name: name,
    migration: newId(),
    to_host: to.name,
    live: live ? 1 : 0,
    started_at: now(),
  };
  insertDeparture(core.db, dep);
  const t0 = Date.now();
  ctx.progress(0.05, live ? "preparing the destination" : "copying disks");
  const staged = live
    ? []
    : await stageDisks(core, dep.migration, record.disks).catch(async (e) => {
        await abortDeparture(core, fleet, dep);
        throw e;
      });
  try {
    const prepared = await fleetRequest(fleet, to, "POST", `/v1/fleet/arrivals`, {
      migration: dep.migration,
      record,
      live,
    });
    if (!prepared.ok) throw await answerError(prepared, `host ${to.name} did not take vm ${name}`);
    const { boot } = (await prepared.json()) as { boot?: BootPaths };
    if (live) {
      ctx.progress(0.2, "migrating the running guest");
      // Only RBD disks: the destination opens the same images, so libvirt copies nothing.
      const shared = record.disks.every((d) => d.device !== "disk" || isRbdDisk(d));
      await migrateLive(core, name, to, boot, shared);
    }
  } catch (e) {
    // Before the hand-over nothing has moved: the departure ends here and the destination drops its part.
    if (!live || (await domainState(core, name)) !== null) await abortDeparture(core, fleet, dep);
    throw e;
  } finally {
    await unstage(staged);
  }
  ctx.progress(0.8, "handing the name over");
  if (Date.now() - t0 > MAX_MIGRATION_MS) {
    await abortDeparture(core, fleet, dep);
    throw new Conflict(`migration of vm ${name} took longer than ${MAX_MIGRATION_MS / 1000} s; abandoned`);
  }
  // An etcd failure here leaves the departure for settle: it reads the claim and finishes or aborts.
  if (!(await handOver(fleet, name, to.name))) {
    await abortDeparture(core, fleet, dep);
    throw new Conflict(`vm ${name}'s name is no longer claimed by host ${fleet.name}`);
  }
  await finishDeparture(core, dep);
  await tellDestination(fleet, dep, "POST", "/commit");
  return { name, host: to.name, live, elapsed_ms: Date.now() - t0 };
}
