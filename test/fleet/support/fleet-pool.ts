// A fleet pool declared on both test hosts, its stock as etcd shows it, and its removal: what the fleet pool suites share.
import { expect } from "bun:test";
import type { FleetClient } from "./client.ts";
import { alive, until } from "./run.ts";
import type { Topology } from "./topology.ts";

export interface Stock {
  ready: number;
  hosts: Record<string, number>;
}

type Admins = { a: FleetClient | undefined; b: FleetClient | undefined };

/** The same pool (and its tiny profile: a blank disk, the firmware idles, running is ready) on each host. */
export async function declareFleetPool(admins: Admins, pool: string, size: number): Promise<void> {
  for (const admin of [admins.a, admins.b]) {
    if (!admin) throw new Error("no admin client");
    const p = await admin.call("POST", "/v1/profiles", {
      name: `${pool}-p`,
      cpus: 1,
      memory_mib: 32,
      root_disk_gb: 1,
    });
    expect(p.status).toBe(201);
    const made = await admin.call("POST", "/v1/pools", {
      name: pool,
      profile: `${pool}-p`,
      size,
      fleet: true,
    });
    expect(made.status).toBe(201);
  }
}

/** Deletes the pool on each host whose berth still runs (a suite may end with one killed). */
export async function dropFleetPool(
  fleet: Topology | undefined,
  admins: Admins,
  pool: string,
): Promise<void> {
  for (const h of ["a", "b"] as const) {
    const admin = admins[h];
    const pid = fleet?.berths[h].pid;
    if (!admin || !pid || !alive(pid)) continue;
    await admin.call("DELETE", `/v1/pools/${pool}`).catch(() => null);
  }
}

/** The fleet's stock of `pool` as `admin`'s host answers it. */
export async function stockAt(admin: FleetClient, pool: string): Promise<Stock> {
  const r = await admin.call("GET", `/v1/fleet/pools/${pool}`);
  expect(r.status).toBe(200);
  return r.body as Stock;
}

/** Waits until etcd shows `want` ready VMs per host, as every one of `admins` answers it. */
export async function stockIs(
  admins: FleetClient[],
  pool: string,
  want: Record<string, number>,
  timeoutMs = 60_000,
): Promise<void> {
  const sorted = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());
  await until(
    async () => {
      for (const admin of admins)
        if (sorted((await stockAt(admin, pool)).hosts) !== sorted(want)) return false;
      return true;
    },
    timeoutMs,
    `fleet stock ${JSON.stringify(want)}`,
  );
}
