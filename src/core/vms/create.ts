// Creating a VM: plan and record it, then volumes, definition and start as one operation that undoes itself.
import { groupCommitOf } from "../../db/group-commit.ts";
import { deleteVm, insertVm, updateDiskSize, updateVm, type VmRow } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { Forbidden } from "../auth/errors.ts";
import { assertProject, type Caller, checkQuota, ownerNameOf, requireCaller } from "../auth/index.ts";
import { checkVmFits, measureRoom } from "../capacity.ts";
import type { Core } from "../context.ts";
import { claimForCreate, releaseUnrecorded } from "../fleet/names.ts";
import { assertPlacedHere } from "../fleet/placement.ts";
import { reserveQuota } from "../fleet/quota.ts";
import { checkName } from "../names.ts";
import type { OpContext, Operation, PreparedOperation } from "../operations.ts";
import { Reverter } from "../reverter.ts";
import { now } from "../time.ts";
import { storeConfigDrive } from "./cloud-init.ts";
import { domainState, removeDomain } from "./domain.ts";
import { domainSpecFor } from "./domain-xml.ts";
import { followInstall } from "./install.ts";
import { installPending } from "./install-boot.ts";
import { fetchInstallFiles, findInstallTree } from "./install-tree.ts";
import { type CreateVmRequest, planDisks, planNeed, planVm } from "./plan.ts";
import { vmInState, vmTarget } from "./records.ts";
import { createVolume } from "./volumes.ts";

/**
 * The first undo of a create, so it runs last: forgets the VM's row, unless an undo before it failed and left a
 * volume or domain behind; then the row stays, `creating` again, so reconcile finishes the cleanup.
 */
export function forgetCreated(core: Core, r: Reverter, row: Pick<VmRow, "id" | "name">): void {
  r.add(`forget vm ${row.name}`, () => {
    if (r.failures.length > 0) updateVm(core.db, row.id, { status: "creating", updated_at: now() });
    else {
      deleteVm(core.db, row.id);
      releaseUnrecorded(core, row.name);
    }
  });
}

/**
 * Validates everything up front (a 4xx creates nothing), records the VM as `creating`, and returns the
 * operation that builds it. A crash mid-way leaves a `creating` row that reconcile cleans up.
 */
export interface CreateVmOptions {
  /** Runs in the transaction that records the VM (berth's own callers record what they track with it). */
  recorded?: (row: VmRow) => void;
  /** berth's own create (a pool's refill): its writes take group commit's background lane, behind requests. */
  background?: boolean;
  /** The operation's id: one the caller chose (and holds the VM's lock under, in another thread). */
  operationId?: string;
}

export async function createVm(
  core: Core,
  caller: Caller | null,
  req: CreateVmRequest,
  opts: CreateVmOptions = {},
): Promise<Operation> {
  requireCaller(core, caller);
  if (core.config.auth.enabled && !caller?.admin && !core.config.auth.users_can_create) {
    throw new Forbidden("only an admin may create VMs here ([auth] users_can_create is false)");
  }
  assertPlacedHere(core, req.host);
  const project = checkName("project", req.project ?? DEFAULT_PROJECT);
  assertProject(core, caller, project, "create VMs in it");
  const plan = planVm(core, req);
  const { row } = plan;
  row.owner = ownerNameOf(core, caller);
  row.project = project;
  if ((await domainState(core, row.name)) !== null) {
    throw new Conflict(`a libvirt domain named ${row.name} already exists and berth does not manage it`);
  }
  // In a fleet the name is claimed fleet-wide first; every refusal up to the insert gives it back.
  const release = await claimForCreate(core, row.name);
  const lane = { background: opts.background === true };
  let recorded = false;
  let unreserve = async () => {};
  let tree: Awaited<ReturnType<typeof findInstallTree>> | null = null;
  let room: Awaited<ReturnType<typeof measureRoom>>;
  const build = async (ctx: OpContext): Promise<unknown> => {
    const r = new Reverter();
    forgetCreated(core, r, row);
    const vm = await r.run(async () => {
      // Ensured and measured by measureRoom a moment ago: not asked of libvirt again.
      const pool = room.space.pool;
      for (const [i, v] of plan.volumes.entries()) {
        await createVolume(core, pool, v, r);
        ctx.progress((i + 1) / (plan.volumes.length + 2), `volume ${v.disk.volume}`);
      }
      if (plan.cidata) {
        await storeConfigDrive(core, pool, plan.cidata, r);
        updateDiskSize(core.db, row.id, plan.cidata.disk.unit, plan.cidata.disk.size);
      }
      if (tree) await fetchInstallFiles(core, pool, row.id, tree, r, ctx, 0.5);
      // Built into XML in the Worker (the same pure builder): it is the create's costliest step on this thread.
      const defined = await core.hv.call("domain.defineSpec", {
        spec: domainSpecFor(core, row, planDisks(plan), plan.nics),
      });
      r.add(`remove domain ${row.name}`, () => removeDomain(core, row.name));
      await groupCommitOf(core.db).run(
        () => updateVm(core.db, row.id, { uuid: defined.uuid, status: "stopped", updated_at: now() }),
        lane,
      );
      ctx.progress(plan.volumes.length / (plan.volumes.length + 2), "defined");
      if (plan.start) {
        await core.hv.call("domain.create", { name: row.name });
        const at = now();
        // Shares a commit with the other creates' steps of this turn (a pool's refill runs many at once).
        await groupCommitOf(core.db).run(
          () => updateVm(core.db, row.id, { status: "running", started_at: at, updated_at: at }),
          lane,
        );
      }
      core.events.publish("vm.created", vmTarget(row.name), { id: row.id, started: plan.start });
      // The state it was just brought to: reading it back would cost a call per create.
      return vmInState(core, row.name, plan.start ? "running" : "shutoff");
    });
    // Outside the reverter: an install that fails keeps its VM (and console log) for a look.
    return plan.start && installPending(plan.boot) ? followInstall(core, row, ctx) : vm;
  };
  let op: Operation;
  try {
    // A location that is not an install tree is a 400 before anything exists.
    tree = plan.boot.location ? await findInstallTree(plan.boot.location, core.config.images) : null;
    const need = planNeed(plan);
    const disks = planDisks(plan);
    const charge = {
      vcpus: row.vcpus,
      memory_mib: row.memory_mib,
      disk_bytes: disks.filter((d) => d.device === "disk").reduce((n, d) => n + d.size, 0),
    };
    // In a fleet the user's quota holds across hosts: reserved in etcd first, given back on any refusal below.
    unreserve = await reserveQuota(core, row.owner ?? null, row.name, charge);
    room = await measureRoom(core, need.disk_bytes);
    // The checks, the row, the caller's own records and the operation in one unit of a group commit (the
    // creates of one turn, like a refill's, share its commit): synchronous from the checks to the insert, so
    // a concurrent create counts this VM and two creates by one user cannot both slip under the quota. A
    // refused lock takes the row back. The build starts only once the commit holds: a commit a full disk
    // refuses must leave nothing running.
    const prepared: { op?: PreparedOperation } = {};
    try {
      op = await groupCommitOf(core.db).run(() => {
        checkVmFits(core, room, need, `vm ${row.name}`);
        if (!core.fleet) checkQuota(core, row.owner ?? null, { vms: 1, ...charge });
        try {
          insertVm(core.db, row, planDisks(plan), plan.nics);
        } catch (e) {
          // Two creates of one name raced past the check above; the UNIQUE constraint settles it.
          if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE")
            throw new Conflict(`vm ${row.name} already exists`);
          throw e;
        }
        opts.recorded?.(row);
        prepared.op = core.ops.prepare("vm.create", vmTarget(row.name), build, {
          lock: true,
          owner: row.owner ?? null,
          id: opts.operationId,
        });
        return prepared.op.op;
      }, lane);
    } catch (e) {
      prepared.op?.abandon();
      throw e;
    }
    prepared.op?.launch();
    recorded = true;
  } finally {
    if (!recorded) {
      await unreserve();
      await release();
    }
  }
  return op;
}
