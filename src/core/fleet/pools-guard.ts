// A fleet pool's VMs are handed out through etcd only: the single-host paths refuse them while this host is in a fleet.
import { Conflict } from "../../errors.ts";
import type { Core } from "../context.ts";
import type { PoolRecord } from "../pools/records.ts";

/** 409 for a local checkout of a fleet pool's VMs (on-demand requests of fleet pools go through pools-requests.ts). */
export function refuseFleetPools(core: Core, wanted: { pools: readonly PoolRecord[] }[]): void {
  if (!core.fleet) return;
  const fleetPools = wanted.flatMap((w) => w.pools).filter((p) => p.spec.fleet === true);
  if (fleetPools.length === 0) return;
  throw new Conflict(
    `${fleetPools.map((p) => p.name).join(", ")}: fleet pools are checked out fleet-wide with POST /v1/checkout only`,
  );
}
