// PVC's storage volumes over berth's pool: qcow2 volumes made through PVC's API (recorded with their owner), listed, added and removed in PVC's shapes and words.
import { join } from "node:path";
import {
  deletePvcVolume,
  insertPvcVolume,
  type PvcVolumeRow,
  pvcVolume,
  pvcVolumes,
  setPvcVolumeSize,
  vmsUsingVolume,
} from "../../db/pvc-volumes.ts";
import { Conflict, NotFound } from "../../errors.ts";
import { buildVolumeXml } from "../../xml/storage.ts";
import { actsAsAdmin, ownerNameOf, requireCaller } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import { checkQuota } from "../auth/quota.ts";
import { checkDiskSize, checkDisksFit, poolSpace } from "../capacity.ts";
import type { Core } from "../context.ts";
import { removeVolume } from "../images/store.ts";
import { checkName } from "../names.ts";
import { operationFinished } from "../operation-outcome.ts";
import { poolDir } from "../paths.ts";
import { Reverter } from "../reverter.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { now } from "../time.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import { parsePvcSize, pvcHumanBytes } from "./pvc-sizes.ts";

/** 'rbd info'-like facts of a volume (PVC showed the size human-readable). */
export interface PvcVolumeStats {
  name: string;
  /** Virtual size, as PVC showed it: "4096M". */
  size: string;
  /** What the pool holds it as (rbd said 2, its image format; berth's volumes are qcow2). */
  format: "qcow2";
  /** Bytes it takes on disk now, in the same form. */
  allocated: string;
  create_timestamp: string;
}

export interface PvcVolume {
  name: string;
  pool: string;
  stats: PvcVolumeStats;
}

/** The libvirt volume (file name in berth's pool) behind PVC volume `name`: exact, so an admin's VM XML can name it. */
export const pvcVolumeFile = (name: string): string => `pvc-${name}.qcow2`;

/** Its path on the host. */
export const pvcVolumePath = (core: Core, row: Pick<PvcVolumeRow, "volume">): string =>
  join(poolDir(core.config), row.volume);

/** The operation target of a volume: one action at a time on it (add, remove, each snapshot change). */
export const pvcVolumeTarget = (pool: string, name: string): string => `pvc-volume/${pool}/${name}`;

/** PVC's pools here: berth's one storage pool only (the host's other pools, and VM disks, are never shown). */
export function isPvcPool(core: Core, pool: string): boolean {
  return pool === core.config.storage.pool;
}

/** PVC's answer for a pool filter naming no pool. */
export function noPool(pool: string): NotFound {
  return new NotFound(`No pool with name "${pool}" is present in the cluster.`);
}

/** Whether `caller` may see (and so act on) `row`: admins (and everyone with auth off) all, a user their own. */
export function seesVolume(core: Core, caller: Caller | null, row: PvcVolumeRow): boolean {
  if (actsAsAdmin(core, caller)) return true;
  return caller !== null && row.owner === caller.name;
}

/** The volumes `caller` may see, by pool and name. */
export function visibleVolumes(core: Core, caller: Caller | null): PvcVolumeRow[] {
  if (actsAsAdmin(core, caller)) return pvcVolumes(core.db);
  const who = requireCaller(core, caller);
  return who ? pvcVolumes(core.db, who.name) : [];
}

/** The volume `caller` may act on, or PVC's "No volume" (another user's volume is not there for them). */
export function callersVolume(core: Core, caller: Caller | null, pool: string, name: string): PvcVolumeRow {
  requireCaller(core, caller);
  const row = isPvcPool(core, pool) ? pvcVolume(core.db, pool, name) : null;
  if (!row || !seesVolume(core, caller, row)) {
    throw new NotFound(`No volume with name "${name}" is present in pool ${pool}.`);
  }
  return row;
}

/** libvirt's reading of the pool's volumes by name; none are read when there is nothing to show. */
async function libvirtVolumes(core: Core, rows: PvcVolumeRow[]) {
  if (rows.length === 0) return new Map<string, { allocation: number; capacity: number }>();
  const pool = await ensureStoragePool(core);
  return new Map((await core.hv.call("volume.list", { pool })).map((v) => [v.name, v]));
}

/**
 * PVC's remove of a VM takes the pool disks its XML attached, PVC volumes among them: those of
 * `volumes` the pool no longer holds leave PVC's list too.
 */
export async function forgetRemovedVolumes(core: Core, volumes: readonly string[]): Promise<void> {
  const rows = pvcVolumes(core.db).filter((r) => volumes.includes(r.volume));
  const left = await libvirtVolumes(core, rows);
  for (const r of rows) if (!left.has(r.volume)) deletePvcVolume(core.db, r.pool, r.name);
}

function view(row: PvcVolumeRow, allocation: number): PvcVolume {
  return {
    name: row.name,
    pool: row.pool,
    stats: {
      name: row.name,
      size: pvcHumanBytes(row.size),
      format: "qcow2",
      allocated: pvcHumanBytes(allocation),
      create_timestamp: row.created_at,
    },
  };
}

/**
 * PVC's volume list: `pool` (exact; any pool but berth's is PVC's "No pool" error) and `limit` (PVC's
 * regex rule, against "pool/volume"); `exact` names one volume instead (the single-volume GET).
 */
export async function listPvcVolumes(
  core: Core,
  caller: Caller | null,
  q: { pool?: string; limit?: string; exact?: string },
): Promise<PvcVolume[]> {
  if (q.pool !== undefined && !isPvcPool(core, q.pool)) throw noPool(q.pool);
  const matches = pvcLimitMatcher(q.exact === undefined ? q.limit : undefined);
  const rows = visibleVolumes(core, caller).filter(
    (r) =>
      (q.pool === undefined || r.pool === q.pool) &&
      (q.exact === undefined ? matches(`${r.pool}/${r.name}`) : r.name === q.exact),
  );
  const vols = await libvirtVolumes(core, rows);
  return rows.map((r) => view(r, vols.get(r.volume)?.allocation ?? 0));
}

/** Adds a blank qcow2 volume of `sizeText` (PVC's units) to berth's pool, owned by the caller; PVC's message. */
export async function addPvcVolume(
  core: Core,
  caller: Caller | null,
  pool: string,
  name: string,
  sizeText: string,
): Promise<string> {
  requireCaller(core, caller);
  if (!isPvcPool(core, pool)) throw noPool(pool);
  checkName("pool", name, "volume");
  const bytes = parsePvcSize(sizeText);
  checkDiskSize(core, `volume ${name}`, bytes);
  const space = await poolSpace(core, bytes);
  // From here to the insert nothing awaits: a concurrent add sees this row, and quota and space count it.
  if (pvcVolume(core.db, pool, name)) {
    throw new Conflict(`A volume with name "${name}" already exists in pool ${pool}.`);
  }
  checkQuota(core, caller, { disk_bytes: bytes });
  checkDisksFit(core, space, bytes);
  const row: PvcVolumeRow = {
    pool,
    name,
    volume: pvcVolumeFile(name),
    size: bytes,
    owner: ownerNameOf(core, caller),
    created_at: now(),
  };
  insertPvcVolume(core.db, row);
  let op: ReturnType<typeof core.ops.start>;
  try {
    op = core.ops.start(
      "pvc.volume.add",
      pvcVolumeTarget(pool, name),
      () =>
        new Reverter().run(async (r) => {
          r.add(`forget volume ${name}`, () => deletePvcVolume(core.db, pool, name));
          const made = await core.hv.call("volume.create", {
            pool,
            xml: buildVolumeXml({ name: row.volume, capacityBytes: bytes, format: "qcow2" }),
          });
          // libvirt rounds the size up (qemu-img takes whole KiB): record what it made.
          setPvcVolumeSize(core.db, pool, name, made.capacity);
        }),
      { lock: true, owner: row.owner },
    );
  } catch (e) {
    deletePvcVolume(core.db, pool, name);
    throw e;
  }
  await operationFinished(core.ops, op);
  return `Created new RBD volume '${name}' of size '${sizeText}' on pool '${pool}'.`;
}

/** 409 when a VM has the volume as a disk (only an admin's raw XML attaches one): it must be detached first. */
function assertDetached(core: Core, row: PvcVolumeRow): void {
  if (vmsUsingVolume(core.db, row.volume).length > 0) {
    throw new Conflict(
      `Volume "${row.name}" in pool ${row.pool} is a disk of a VM; remove it from the VM first.`,
    );
  }
}

/** Removes a volume the caller may see (its file and record); PVC's message. */
export async function removePvcVolume(
  core: Core,
  caller: Caller | null,
  pool: string,
  name: string,
): Promise<string> {
  const row = callersVolume(core, caller, pool, name);
  assertDetached(core, row);
  const op = core.ops.start(
    "pvc.volume.remove",
    pvcVolumeTarget(pool, name),
    async () => {
      await removeVolume(core, pool, row.volume);
      deletePvcVolume(core.db, pool, name);
    },
    { lock: true, owner: ownerNameOf(core, caller) },
  );
  await operationFinished(core.ops, op);
  return `Removed RBD volume '${name}' in pool '${pool}'.`;
}
