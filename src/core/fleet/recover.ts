// POST /v1/vms/{name}/recover: an admin starts a dead host's VM on this host from its RBD disks, after fencing that host at Ceph.
import { type ArrivalRow, deleteArrival, putArrival } from "../../db/fleet-moves.ts";
import { vmByName } from "../../db/vms.ts";
import { BadRequest, CapacityExceeded, Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import { withBootPaths } from "../../xml/boot-paths.ts";
import { type Caller, ownerNameOf, requireAdmin } from "../auth/index.ts";
import { checkVmShape } from "../capacity.ts";
import type { Core } from "../context.ts";
import { newId } from "../names.ts";
import type { OpContext, Operation } from "../operations.ts";
import { ensureRbdPool } from "../storage/rbd.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { now } from "../time.ts";
import { recordState } from "../vms/power.ts";
import { vmTarget } from "../vms/records.ts";
import { ownsVolume } from "../vms/volumes.ts";
import { bootPathsHere, checkRbdDisk, commitArrival } from "./arrive.ts";
import { FleetUnavailable, NotInFleet } from "./errors.ts";
import { fenceHost } from "./fence.ts";
import type { Fleet } from "./fleet.ts";
import { liveHosts } from "./members.ts";
import type { MovedRecord } from "./moved-record.ts";
import type { NameClaim } from "./names.ts";
import { publishedRecord, publishRecord } from "./records.ts";

export interface RecoverRequest {
  /** The host to start the VM on: the host that runs the recovery (another host forwards the request there). */
  host: string;
}

interface Recoverable {
  dead: string;
  /** The claim's mod revision as read: the ownership transaction compares it. */
  claimRev: string;
  record: MovedRecord;
}

/** 404, or 409 saying why `name` cannot be recovered here: its host is live, a disk is not RBD, this host lacks room. */
async function checkRecoverable(core: Core, fleet: Fleet, name: string): Promise<Recoverable> {
  const kv = (
    await fleet.etcd
      .get(fleet.nameKey(name))
      .exec()
      .catch((e) => {
        throw new FleetUnavailable(`cannot look up vm ${name}: etcd is not reachable`, { cause: e });
      })
  ).kvs[0];
  if (!kv) throw new NotFound(`vm ${name} does not exist in the fleet`);
  const claim = JSON.parse(kv.value.toString()) as NameClaim;
  if (claim.host === fleet.name || vmByName(core.db, name) !== null)
    throw new Conflict(`vm ${name} is already on host ${fleet.name}`);
  if ((await liveHosts(fleet)).has(claim.host))
    throw new Conflict(
      `vm ${name}'s host ${claim.host} is a live member of the fleet: only a dead host's VMs are recovered (migrate it instead)`,
    );
  const published = await publishedRecord(fleet, name);
  if (!published || published.host !== claim.host)
    throw new Conflict(`host ${claim.host} published no record of vm ${name}: it cannot be recovered`);
  const record = published.record;
  const notRbd = record.disks.filter((d) => !isRbdDisk(d) || !ownsVolume(record.vm.id, d));
  if (notRbd.length > 0)
    throw new Conflict(
      `vm ${name} has disks that are not its own RBD images (${notRbd.map((d) => d.name).join(", ")}): they died with host ${claim.host}`,
    );
  for (const d of record.disks) checkRbdDisk(core, fleet, name, d);
  const networks = new Set((await core.hv.call("network.list", {})).map((n) => n.name));
  const missing = record.nics.filter((n) => !networks.has(n.network)).map((n) => n.network);
  if (missing.length > 0)
    throw new Conflict(`host ${fleet.name} has no network ${missing.join(", ")} for vm ${name}`);
  const shape = { vcpus: record.vm.vcpus, memory_mib: record.vm.memory_mib };
  await checkVmShape(core, shape, `vm ${name}`, null, (m) => new CapacityExceeded(m));
  return { dead: claim.host, claimRev: kv.mod_revision, record };
}

export async function recoverVm(
  core: Core,
  caller: Caller | null,
  name: string,
  req: RecoverRequest,
): Promise<Operation> {
  requireAdmin(core, caller, "recover a dead host's vm");
  const fleet = core.fleet;
  if (!fleet)
    throw new NotInFleet(`cannot recover vm ${name}: this host is not in a fleet (no [fleet] etcd)`);
  if (req.host !== fleet.name)
    throw new BadRequest(`this is host ${fleet.name}: a recovery onto host ${req.host} runs there`);
  core.locks.ensureFree(vmTarget(name));
  await checkRecoverable(core, fleet, name);
  return core.ops.start("vm.recover", vmTarget(name), (ctx) => runRecovery(core, fleet, name, ctx), {
    lock: true,
    owner: ownerNameOf(core, caller),
  });
}

/**
 * The dead host's record becomes an arrival (so a crash after the hand-over is committed by settleMoves), the
 * dead host is fenced at Ceph, then ONE etcd transaction moves the claim here only while the dead host's
 * member key is absent and the claim is the one read; then the domain is defined, the record inserted, and it starts.
 */
async function runRecovery(core: Core, fleet: Fleet, name: string, ctx: OpContext) {
  const t0 = Date.now();
  const { dead, claimRev, record } = await checkRecoverable(core, fleet, name);
  const boot = bootPathsHere(core, fleet, record);
  const here: MovedRecord = boot ? { ...record, xml: withBootPaths(record.xml, boot) } : record;
  const arrival: ArrivalRow = {
    vm_name: name,
    migration: `recover-${newId()}`,
    from_host: dead,
    record: JSON.stringify(here),
    created_at: now(),
  };
  // The domain's RBD disks open through the cephx secret libvirt here must hold.
  await ensureRbdPool(core);
  putArrival(core.db, arrival);
  let moved = false;
  try {
    ctx.progress(0.2, `fencing host ${dead} at ceph`);
    await fenceHost(core, fleet, dead);
    ctx.progress(0.5, "taking the vm over");
    const nameKey = fleet.nameKey(name);
    const claim: NameClaim = { host: fleet.name, at: new Date().toISOString(), recovered_from: dead };
    const tx = await fleet.etcd
      .if(fleet.hostKey(dead), "Create", "==", 0)
      .and(nameKey, "Mod", "==", claimRev)
      .then(fleet.etcd.put(nameKey).value(JSON.stringify(claim)))
      .commit();
    if (!tx.succeeded)
      throw new Conflict(
        `vm ${name} was not taken over: host ${dead} came back or its claim changed meanwhile`,
      );
    moved = true;
  } finally {
    if (!moved) deleteArrival(core.db, name, arrival.migration);
  }
  await commitArrival(core, fleet, name, arrival.migration);
  const row = vmByName(core.db, name);
  ctx.progress(0.8, "starting the vm");
  await core.hv.call("domain.create", { name });
  if (row) {
    recordState(core, row.id, name, "running");
    await publishRecord(core, fleet, row).catch((e): unknown =>
      log.warn("fleet: recovered vm's record not published; the next settle does it", {
        vm: name,
        error: String(e),
      }),
    );
  }
  log.warn("fleet: vm recovered from a dead host", { vm: name, from: dead });
  return { name, host: fleet.name, from: dead, elapsed_ms: Date.now() - t0 };
}
