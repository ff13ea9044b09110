// PVC's Ceph cluster endpoints (status, df, OSDs, pools): berth has no Ceph cluster yet, so each says so and never invents data.
import { AppError } from "../../errors.ts";
import { requireAdmin } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";

/** No Ceph cluster is configured on this host: PVC's failure status for it is 510. */
export class NoCephCluster extends AppError {
  constructor() {
    super(501, "no_ceph_cluster", "no Ceph cluster is configured on this host");
  }
}

/** A read of the Ceph cluster (status, df, an OSD or pool list): there is none to read. */
export function readCeph(_core: Core, _caller: Caller | null): never {
  throw new NoCephCluster();
}

/** A change to the Ceph cluster: an admin's (a cluster is the host's, not a user's), then there is none to change. */
export function changeCeph(core: Core, caller: Caller | null, what: string): never {
  requireAdmin(core, caller, what);
  throw new NoCephCluster();
}
