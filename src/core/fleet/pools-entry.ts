// Checkout at any host: fleet pools go through etcd (fleetCheckout), every other pool takes today's single-host path.
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";
import { findPool, resolvePools } from "../pools/records.ts";
import { type AwakeOptions, type AwakeVm, checkoutAwake } from "../pools/wake.ts";
import { type FleetCheckedOutVm, fleetCheckout } from "./pools-checkout.ts";
import { type ReadyValue, readPoolEntries } from "./pools-keys.ts";

/**
 * POST /v1/checkout: a request naming a fleet pool (on a fleet host) is a fleet checkout, with any local
 * pools it names taken in between (all or nothing over both); a request without one is unchanged.
 */
export async function checkoutAtAnyHost(
  core: Core,
  caller: Caller | null,
  request: Record<string, number>,
  opts: Omit<AwakeOptions, "owner">,
): Promise<{ vms: (AwakeVm | FleetCheckedOutVm)[] }> {
  const fleet = core.fleet;
  const owner = caller?.name ?? null;
  const isFleet = (n: string) => resolvePools(core, n).some((p) => p.spec.fleet === true);
  if (!fleet || !Object.keys(request).some(isFleet)) return checkoutAwake(core, request, { ...opts, owner });
  const fleetPart = Object.fromEntries(Object.entries(request).filter(([n]) => isFleet(n)));
  const localPart = Object.fromEntries(Object.entries(request).filter(([n]) => !isFleet(n)));
  let local: AwakeVm[] = [];
  // Local pools are taken while the fleet's VMs are held in etcd: a short local pool gives those back.
  const alongside =
    Object.keys(localPart).length === 0
      ? undefined
      : async () => {
          local = (await checkoutAwake(core, localPart, { ...opts, owner })).vms;
        };
  const { vms } = await fleetCheckout(core, fleet, caller, fleetPart, {
    ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
    ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
    ...(alongside ? { alongside } : {}),
  });
  return { vms: [...vms, ...local] };
}

/** A fleet pool's published stock: ready VMs by host, over every live host (what a checkout anywhere can take). */
export async function fleetStock(
  core: Core,
  pool: string,
): Promise<{ pool: string; ready: number; hosts: Record<string, number> }> {
  findPool(core, pool);
  const hosts: Record<string, number> = {};
  let ready = 0;
  const fleet = core.fleet;
  if (fleet) {
    for (const k of await readPoolEntries(fleet, "the fleet pools' stock")) {
      if (k.kind !== "ready" || k.pool !== pool) continue;
      const host = (JSON.parse(k.value) as ReadyValue).host;
      hosts[host] = (hosts[host] ?? 0) + 1;
      ready++;
    }
  }
  const byName = Object.fromEntries(Object.entries(hosts).sort(([a], [b]) => a.localeCompare(b)));
  return { pool, ready, hosts: byName };
}
