// PVC's Ceph cluster endpoints: with [storage] backend = "rbd" the reads answer from berth's Ceph pool; without, each says there is no cluster.
import { AppError, NotFound } from "../../errors.ts";
import { requireAdmin } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";
import { rbdBackend } from "../storage/rbd.ts";
import { type RbdPoolState, rbdPoolState } from "../storage/rbd-status.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import { pvcNodeName } from "./pvc-node.ts";

/** No Ceph cluster is configured on this host: PVC's failure status for it is 510. */
export class NoCephCluster extends AppError {
  constructor() {
    super(501, "no_ceph_cluster", "no Ceph cluster is configured on this host");
  }
}

/** berth uses a Ceph pool but does not manage the cluster: what it cannot see or must not change is PVC's 510 too. */
export class CephNotManaged extends AppError {
  constructor(what: string) {
    super(501, "ceph_not_managed", `berth uses Ceph pool storage but does not manage the cluster: ${what}`);
  }
}

export type CephRead =
  | { kind: "status" }
  | { kind: "df" }
  | { kind: "osds" }
  | { kind: "osd" }
  | { kind: "pools"; limit?: string }
  | { kind: "pool"; pool: string };

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 10_000) / 100 : 0);

/** PVC's pool object, from what libvirt's rbd pool reports (PVC's fields berth cannot read are left out, never made up). */
function poolObject(s: RbdPoolState): Record<string, unknown> {
  return {
    name: s.name,
    volume_count: s.volumes,
    stats: {
      used_bytes: s.allocation,
      free_bytes: s.available,
      used_percent: pct(s.allocation, s.capacity),
    },
  };
}

/** The summary lines berth gives as PVC's `ceph_data` text (PVC relayed `ceph status` / `ceph df`). */
function summary(s: RbdPoolState): string {
  return [
    `pool ${s.name}: ${s.volumes} images`,
    `capacity ${s.capacity} bytes, used ${s.allocation} bytes (${pct(s.allocation, s.capacity)}%), available ${s.available} bytes`,
  ].join("\n");
}

/** A read of the Ceph cluster: answered from berth's own pool when its storage is on RBD. */
export async function readCeph(core: Core, _caller: Caller | null, read: CephRead): Promise<unknown> {
  if (!rbdBackend(core.config)) throw new NoCephCluster();
  if (read.kind === "osds" || read.kind === "osd") {
    throw new CephNotManaged("its OSDs are not readable with berth's cephx user (profile rbd)");
  }
  const s = await rbdPoolState(core);
  if (read.kind === "status" || read.kind === "df") {
    return {
      type: read.kind === "status" ? "status" : "utilization",
      primary_node: await pvcNodeName(core),
      ceph_data: summary(s),
    };
  }
  if (read.kind === "pools") return pvcLimitMatcher(read.limit)(s.name) ? [poolObject(s)] : [];
  if (read.pool !== s.name) throw new NotFound(`pool ${read.pool} not found`);
  return [poolObject(s)];
}

/** A change to the Ceph cluster: an admin's (a cluster is the host's, not a user's), then berth never makes it. */
export function changeCeph(core: Core, caller: Caller | null, what: string): never {
  requireAdmin(core, caller, what);
  if (rbdBackend(core.config)) throw new CephNotManaged(`it does not ${what}`);
  throw new NoCephCluster();
}
