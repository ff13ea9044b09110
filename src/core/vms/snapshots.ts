// A VM's snapshots: libvirt internal snapshots (with RAM when running), or RBD snapshots of RBD disks, recorded with the VM's config at that time.
import {
  deleteSnapshot,
  insertSnapshot,
  type SnapshotRow,
  snapshotByName,
  snapshotsOf,
} from "../../db/snapshots.ts";
import { disksOf, nicsOf, setVmShape, updateDiskSize, type VmRow } from "../../db/vms.ts";
import { Conflict, NotFound } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { diskTarget } from "../../xml/domain.ts";
import { buildSnapshotXml, readSnapshotXml } from "../../xml/snapshot.ts";
import { assertVmActor, assertVmSecrets, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkName, generateName } from "../names.ts";
import type { Operation } from "../operations.ts";
import { Reverter } from "../reverter.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { isLibvirt } from "../storage-pool.ts";
import { now } from "../time.ts";
import { domainState } from "./domain.ts";
import { recordState } from "./power.ts";
import { findVmRow, loadVm, vmTarget } from "./records.ts";
import { checkReshape } from "./reshape.ts";
import { deleteRbdSnapshot, rbdSnapshotPlan, revertRbdSnapshot, takeRbdSnapshot } from "./snapshots-rbd.ts";

/** What the VM looked like when the snapshot was taken (berth's records at that moment). */
export interface SnapshotConfig {
  vcpus: number;
  memory_mib: number;
  disks: { name: string; target: string; size: number }[];
  networks: { network: string; mac: string }[];
}

export interface VmSnapshot extends SnapshotConfig {
  name: string;
  description: string;
  /** libvirt's domain state when it was taken: running, paused, shutoff, … */
  state: string;
  /** True when the snapshot holds the guest's memory: reverting resumes it where it was. */
  memory_state: boolean;
  created_at: string;
}

export interface CreateSnapshotRequest {
  name?: string;
  description?: string;
}

function view(s: SnapshotRow): VmSnapshot {
  const config = JSON.parse(s.config) as SnapshotConfig;
  return {
    name: s.name,
    description: s.description,
    state: s.state,
    memory_state: s.memory_state === 1,
    created_at: s.created_at,
    vcpus: config.vcpus,
    memory_mib: config.memory_mib,
    disks: config.disks,
    networks: config.networks,
  };
}

function configOf(core: Core, vm: VmRow): SnapshotConfig {
  return {
    vcpus: vm.vcpus,
    memory_mib: vm.memory_mib,
    disks: disksOf(core.db, vm.id).map((d) => ({
      name: d.name,
      target: diskTarget(d.bus, d.unit),
      size: d.size,
    })),
    networks: nicsOf(core.db, vm.id).map((n) => ({ network: n.network, mac: n.mac })),
  };
}

function findSnapshot(core: Core, vm: VmRow, snap: string): SnapshotRow {
  const row = snapshotByName(core.db, vm.id, snap);
  if (!row) throw new NotFound(`vm ${vm.name} has no snapshot ${snap}`);
  return row;
}

/** The VM must exist in libvirt and be free; a VM still being created cannot be snapshotted or reverted. */
async function checkActionable(core: Core, vm: VmRow): Promise<void> {
  core.locks.ensureFree(vmTarget(vm.name));
  if (vm.status === "creating") throw new Conflict(`vm ${vm.name} is still being created`);
  if ((await domainState(core, vm.name)) === null) {
    throw new Conflict(`vm ${vm.name} has no domain in libvirt (status ${vm.status})`);
  }
}

export function listSnapshots(core: Core, caller: Caller | null, vmName: string): VmSnapshot[] {
  assertVmSecrets(core, caller, vmName);
  return snapshotsOf(core.db, findVmRow(core, vmName).id).map(view);
}

export function getSnapshot(core: Core, caller: Caller | null, vmName: string, snap: string): VmSnapshot {
  assertVmSecrets(core, caller, vmName);
  return view(findSnapshot(core, findVmRow(core, vmName), snap));
}

/** The requested name (409 if taken) or a generated one; `taken` says where a name is used, null if free. */
function snapshotName(vm: VmRow, requested: string | undefined, taken: (n: string) => string | null): string {
  if (requested !== undefined) {
    const by = taken(requested);
    if (by !== null) throw new Conflict(`vm ${vm.name} already has a snapshot ${requested}${by}`);
    return requested;
  }
  for (;;) {
    const n = generateName("snap");
    if (taken(n) === null) return n;
  }
}

/**
 * Takes an internal snapshot: in each qcow2 disk (a linked clone's overlay too, never its backing
 * image), plus the guest's RAM when it runs. Raw disks cannot hold one, so they are refused up front.
 */
export async function createSnapshot(
  core: Core,
  caller: Caller | null,
  vmName: string,
  req: CreateSnapshotRequest,
): Promise<Operation> {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  if (req.name !== undefined) checkName("snapshot", req.name);
  const disks = disksOf(core.db, vm.id);
  const rbd = rbdSnapshotPlan(vmName, disks);
  const raw = disks.find((d) => d.device === "disk" && d.format !== "qcow2");
  if (raw && !rbd) {
    throw new Conflict(
      `vm ${vmName} cannot be snapshotted: disk ${raw.name} (${diskTarget(raw.bus, raw.unit)}) is ${raw.format}, ` +
        "and libvirt keeps internal snapshots only in qcow2 disks",
    );
  }
  await checkActionable(core, vm);
  const inLibvirt = new Set(rbd ? [] : await core.hv.call("snapshot.list", { name: vmName }));
  const name = snapshotName(vm, req.name, (n) => {
    if (snapshotByName(core.db, vm.id, n)) return "";
    return inLibvirt.has(n) ? " in libvirt (not taken by berth)" : null;
  });
  const xml = buildSnapshotXml({
    name,
    description: req.description,
    skipDisks: disks.filter((d) => d.device === "cdrom").map((d) => diskTarget(d.bus, d.unit)),
  });
  return core.ops.start(
    "vm.snapshot.create",
    vmTarget(vmName),
    async (ctx) => {
      const r = new Reverter();
      return r.run(async () => {
        const at = now();
        const config = configOf(core, findVmRow(core, vmName));
        if (rbd) {
          const state = await takeRbdSnapshot(core, vmName, rbd, name);
          r.add(`delete rbd snapshot ${name}`, () => deleteRbdSnapshot(core, rbd, name));
          ctx.progress(
            0.8,
            rbd.leftOut.length ? `snapshot taken; left out: ${rbd.leftOut.join(", ")}` : "snapshot taken",
          );
          const row: SnapshotRow = {
            vm_id: vm.id,
            name,
            description: req.description ?? "",
            state,
            memory_state: 0,
            config: JSON.stringify(config),
            created_at: at,
          };
          insertSnapshot(core.db, row);
          core.events.publish("vm.snapshot.created", vmTarget(vmName), {
            snapshot: name,
            memory_state: false,
            left_out: rbd.leftOut,
          });
          return view(row);
        }
        await core.hv.call("snapshot.create", { name: vmName, xml });
        r.add(`delete snapshot ${name}`, () =>
          core.hv.call("snapshot.delete", { name: vmName, snapshot: name }),
        );
        ctx.progress(0.8, "snapshot taken");
        const facts = readSnapshotXml(await core.hv.call("snapshot.xml", { name: vmName, snapshot: name }));
        const row: SnapshotRow = {
          vm_id: vm.id,
          name,
          description: req.description ?? "",
          state: facts.state,
          memory_state: facts.memory ? 1 : 0,
          config: JSON.stringify(config),
          created_at: at,
        };
        insertSnapshot(core.db, row);
        core.events.publish("vm.snapshot.created", vmTarget(vmName), {
          snapshot: name,
          memory_state: facts.memory,
        });
        return view(row);
      });
    },
    { lock: true },
  );
}

/** Why reverting would leave berth's records and libvirt's definition apart, or null when it would not. */
function revertRefusal(current: SnapshotConfig, then: SnapshotConfig): string | null {
  const disks = (c: SnapshotConfig) => c.disks.map((d) => `${d.name}@${d.target}`).join(",");
  const nics = (c: SnapshotConfig) => c.networks.map((n) => `${n.network}/${n.mac}`).join(",");
  if (disks(current) !== disks(then)) {
    return `its disks changed since (now ${disks(current) || "none"}, then ${disks(then) || "none"})`;
  }
  if (nics(current) !== nics(then)) return "its NICs changed since";
  return null;
}

/**
 * Reverts to the snapshot: libvirt restores the disks, the definition and (with memory) the running
 * guest. Disks or NICs added or removed since are refused (409): the revert would drop or miss them.
 */
export async function revertSnapshot(
  core: Core,
  caller: Caller | null,
  vmName: string,
  snap: string,
): Promise<Operation> {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  const row = findSnapshot(core, vm, snap);
  const then = JSON.parse(row.config) as SnapshotConfig;
  const why = revertRefusal(configOf(core, vm), then);
  if (why) throw new Conflict(`cannot revert vm ${vmName} to snapshot ${snap}: ${why}`);
  const rbd = rbdSnapshotPlan(vmName, disksOf(core.db, vm.id));
  if (rbd) {
    await checkActionable(core, vm);
    if ((await domainState(core, vmName)) !== "shutoff")
      throw new Conflict(
        `vm ${vmName} runs: stop it before reverting to snapshot ${snap} (its disks are RBD)`,
      );
    return core.ops.start(
      "vm.snapshot.revert",
      vmTarget(vmName),
      async () => {
        await revertRbdSnapshot(core, vm, rbd, snap);
        core.events.publish("vm.snapshot.reverted", vmTarget(vmName), { snapshot: snap, state: "shutoff" });
        return loadVm(core, vmName);
      },
      { lock: true },
    );
  }
  // The snapshot's shape comes back: it must still fit the host and its owner's quota.
  await checkReshape(core, vm, then, `vm ${vmName} at snapshot ${snap}`);
  await checkActionable(core, vm);
  return core.ops.start(
    "vm.snapshot.revert",
    vmTarget(vmName),
    async () => {
      try {
        await core.hv.call("snapshot.revert", { name: vmName, snapshot: snap });
      } catch (e) {
        if (!isLibvirt(e, ErrorCode.NO_DOMAIN_SNAPSHOT)) throw e;
        throw new Conflict(`snapshot ${snap} of vm ${vmName} is no longer in libvirt; delete it`, {
          cause: e,
        });
      }
      // libvirt put back the definition of that time: berth's record follows it.
      setVmShape(core.db, vm.id, then.vcpus, then.memory_mib, now());
      const units = new Map(disksOf(core.db, vm.id).map((d) => [d.name, d.unit]));
      for (const d of then.disks) {
        const unit = units.get(d.name);
        if (unit !== undefined) updateDiskSize(core.db, vm.id, unit, d.size);
      }
      const state = await domainState(core, vmName);
      if (state) recordState(core, vm.id, vmName, state);
      core.events.publish("vm.snapshot.reverted", vmTarget(vmName), { snapshot: snap, state });
      return loadVm(core, vmName);
    },
    { lock: true },
  );
}

/** Deletes the snapshot from libvirt (from the qcow2 disks) and from berth's records. */
export function deleteSnapshotOp(core: Core, caller: Caller | null, vmName: string, snap: string): Operation {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  findSnapshot(core, vm, snap);
  const disks = disksOf(core.db, vm.id).filter((d) => d.device === "disk");
  const rbd = disks.some(isRbdDisk)
    ? { volumes: disks.filter(isRbdDisk).map((d) => d.volume), leftOut: [] }
    : null;
  return core.ops.start(
    "vm.snapshot.delete",
    vmTarget(vmName),
    async () => {
      if (rbd) {
        await deleteRbdSnapshot(core, rbd, snap);
      } else {
        try {
          await core.hv.call("snapshot.delete", { name: vmName, snapshot: snap });
        } catch (e) {
          // Gone from libvirt already (the domain or the snapshot): only the record is left to remove.
          if (!isLibvirt(e, ErrorCode.NO_DOMAIN_SNAPSHOT) && !isLibvirt(e, ErrorCode.NO_DOMAIN)) throw e;
        }
      }
      deleteSnapshot(core.db, vm.id, snap);
      core.events.publish("vm.snapshot.deleted", vmTarget(vmName), { snapshot: snap });
      return { name: snap };
    },
    { lock: true },
  );
}
