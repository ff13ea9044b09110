// PVC's volume snapshots: qcow2 internal snapshots of PVC volumes (qemu-img, argv only), never of a volume a running VM holds.
import { type PvcVolumeRow, vmsUsingVolume } from "../../db/pvc-volumes.ts";
import { AppError, Conflict, NotFound } from "../../errors.ts";
import { ownerNameOf } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";
import { operationFinished } from "../operation-outcome.ts";
import { runQemuImg } from "../qemu-img.ts";
import { domainState } from "../vms/domain.ts";
import { headerProblem, readVolumeHeader } from "../volume-header.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import {
  callersVolume,
  isPvcPool,
  noPool,
  pvcVolumePath,
  pvcVolumeTarget,
  visibleVolumes,
} from "./pvc-volumes.ts";

/** One snapshot as PVC listed it. */
export interface PvcSnapshot {
  pool: string;
  volume: string;
  snapshot: string;
}

/** A qcow2 internal snapshot as `qemu-img info --output=json` lists it (in the order taken). */
interface QcowSnapshot {
  name: string;
}

/** The volume's file, checked first: a qcow2 header that reaches no other file (qemu-img would open it). */
function checkedPath(core: Core, row: PvcVolumeRow): string {
  const path = pvcVolumePath(core, row);
  const problem = headerProblem(path, "qcow2", null);
  if (problem) throw new AppError(409, "unsafe_volume", `volume ${row.pool}/${row.name}: ${problem}`);
  return path;
}

/** The volume's internal snapshots; a volume with no file yet (libvirt's test driver keeps volumes in memory) has none. */
async function snapshotsIn(core: Core, row: PvcVolumeRow): Promise<QcowSnapshot[]> {
  if (readVolumeHeader(pvcVolumePath(core, row)) === "missing") return [];
  const path = checkedPath(core, row);
  // -U: reading the list must not wait on (or be refused by) a VM that holds the volume.
  const out = await runQemuImg(["info", "-U", "-f", "qcow2", "--output=json", path]);
  try {
    return (JSON.parse(out) as { snapshots?: QcowSnapshot[] }).snapshots ?? [];
  } catch (cause) {
    throw new AppError(500, "internal", "qemu-img info printed something other than JSON", { cause });
  }
}

/** qemu-img's --image-opts for the file as qcow2 (no probing); a comma in an option value is doubled. */
const imageOpts = (path: string) =>
  `driver=qcow2,file.driver=file,file.filename=${path.replaceAll(",", ",,")}`;

/**
 * PVC's snapshot list, each filter optional: `pool` (berth's only), `volume` (a volume name in any
 * pool), `limit` (PVC's regex rule against "pool/volume@snapshot"); `exact` names one snapshot instead.
 */
export async function listPvcSnapshots(
  core: Core,
  caller: Caller | null,
  q: { pool?: string; volume?: string; limit?: string; exact?: string },
): Promise<PvcSnapshot[]> {
  if (q.pool !== undefined && !isPvcPool(core, q.pool)) throw noPool(q.pool);
  const matches = pvcLimitMatcher(q.exact === undefined ? q.limit : undefined);
  const rows = visibleVolumes(core, caller).filter(
    (r) => (q.pool === undefined || r.pool === q.pool) && (q.volume === undefined || r.name === q.volume),
  );
  if (q.volume !== undefined && rows.length === 0) {
    throw new NotFound(`No volume with name "${q.volume}" is present in the cluster.`);
  }
  const out: PvcSnapshot[] = [];
  for (const r of rows) {
    for (const s of await snapshotsIn(core, r)) {
      const hit = q.exact === undefined ? matches(`${r.pool}/${r.name}@${s.name}`) : s.name === q.exact;
      if (hit) out.push({ pool: r.pool, volume: r.name, snapshot: s.name });
    }
  }
  return out;
}

/** 409 while a running (or paused) VM holds the volume: only the VM's QEMU may write it then. */
async function assertNotRunning(core: Core, row: PvcVolumeRow): Promise<void> {
  for (const vm of vmsUsingVolume(core.db, row.volume)) {
    const state = await domainState(core, vm);
    if (state !== null && state !== "shutoff") {
      throw new Conflict(
        `Volume "${row.name}" in pool ${row.pool} is a disk of a running VM; shut the VM down first.`,
      );
    }
  }
}

/** Runs one snapshot change on the volume as a locked operation and waits for it. */
async function changeSnapshots(
  core: Core,
  caller: Caller | null,
  row: PvcVolumeRow,
  kind: string,
  fn: () => Promise<void>,
): Promise<void> {
  const op = core.ops.start(kind, pvcVolumeTarget(row.pool, row.name), fn, {
    lock: true,
    owner: ownerNameOf(core, caller),
  });
  await operationFinished(core.ops, op);
}

/** Everything a change may be refused for, checked before its operation starts (a refusal records nothing). */
async function changeable(core: Core, row: PvcVolumeRow): Promise<void> {
  core.locks.ensureFree(pvcVolumeTarget(row.pool, row.name));
  if (readVolumeHeader(pvcVolumePath(core, row)) === "missing") {
    throw new Conflict(`Volume "${row.name}" in pool ${row.pool} has no file in the pool.`);
  }
  checkedPath(core, row);
  await assertNotRunning(core, row);
}

/** Takes internal snapshot `name` of a volume the caller may see; PVC's message. */
export async function addPvcSnapshot(
  core: Core,
  caller: Caller | null,
  pool: string,
  volume: string,
  name: string,
): Promise<string> {
  const row = callersVolume(core, caller, pool, volume);
  checkName("pool", name, "snapshot");
  // qemu-img allows two snapshots of one name; PVC (and RBD) did not.
  const taken = async () => (await snapshotsIn(core, row)).some((s) => s.name === name);
  const exists = () =>
    new Conflict(`A snapshot with name "${name}" already exists of volume ${volume} on pool ${pool}.`);
  await changeable(core, row);
  if (await taken()) throw exists();
  await changeSnapshots(core, caller, row, "pvc.snapshot.add", async () => {
    if (await taken()) throw exists(); // taken meanwhile, before the lock
    await runQemuImg(["snapshot", "-q", "--image-opts", "-c", name, imageOpts(checkedPath(core, row))]);
  });
  return `Created new RBD snapshot '${name}' of volume '${volume}' on pool '${pool}'.`;
}

/** Deletes snapshot `name` of a volume the caller may see; PVC's message. */
export async function removePvcSnapshot(
  core: Core,
  caller: Caller | null,
  pool: string,
  volume: string,
  name: string,
): Promise<string> {
  const row = callersVolume(core, caller, pool, volume);
  const present = async () => (await snapshotsIn(core, row)).some((s) => s.name === name);
  const missing = () =>
    new NotFound(`No snapshot with name "${name}" is present of volume ${volume} on pool ${pool}.`);
  if (!(await present())) throw missing();
  await changeable(core, row);
  await changeSnapshots(core, caller, row, "pvc.snapshot.remove", async () => {
    if (!(await present())) throw missing(); // removed meanwhile, before the lock
    // qemu-img -d finds the first snapshot of that name (names here are unique), never one by id.
    await runQemuImg(["snapshot", "-q", "--image-opts", "-d", name, imageOpts(checkedPath(core, row))]);
  });
  return `Removed RBD snapshot '${name}' of volume '${volume}' in pool '${pool}'.`;
}
