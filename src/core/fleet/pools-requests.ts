// On-demand requests of fleet pools: kept by the host that took them, fulfilled from any host's ready VMs by the fleet checkout.
import { getPoolRow } from "../../db/pools.ts";
import {
  getRequest,
  moveRequest,
  pendingRequests,
  type RequestRow,
  requestItems,
  setItemVms,
} from "../../db/requests.ts";
import { AppError, BadRequest, Conflict } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";
import { PoolEmpty, type Wanted } from "../pools/checkout.ts";
import { toPoolRecord } from "../pools/records.ts";
import type { Fleet } from "./fleet.ts";
import { forwardTo } from "./forward.ts";
import { hostHolding } from "./locate.ts";
import { FLEET_CHECKOUT_MAX, fleetCheckout } from "./pools-checkout.ts";

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Per core, the fleet's ready VMs toward each pending request (per pool), as its last try found them. */
const lastStock = new WeakMap<Core, Map<string, Map<string, number>>>();
/** Per core, the pass in progress: passes never overlap, so a request is never checked out twice. */
const inFlight = new WeakMap<Core, Promise<unknown>>();

/**
 * True when a request names fleet pools on a fleet host (then it is fulfilled fleet-wide); 400 for one that
 * mixes them with local pools or asks for more than one fleet checkout takes.
 */
export function checkFleetRequest(core: Core, wanted: Wanted[]): boolean {
  if (!core.fleet) return false;
  const all = wanted.flatMap((w) => w.pools);
  const fleetPools = all.filter((p) => p.spec.fleet === true);
  if (fleetPools.length === 0) return false;
  if (fleetPools.length < all.length)
    throw new BadRequest(
      `pools ${all
        .filter((p) => p.spec.fleet !== true)
        .map((p) => p.name)
        .join(", ")} are not fleet pools: ask for them apart from fleet pools`,
    );
  const total = wanted.reduce((n, w) => n + w.count, 0);
  if (total > FLEET_CHECKOUT_MAX)
    throw new BadRequest(`a fleet request takes at most ${FLEET_CHECKOUT_MAX} VMs (asked ${total})`);
  return true;
}

/** The request's pools are fleet pools and this host is in a fleet: the local hand-out leaves it alone. */
export function isFleetRequest(core: Core, id: string): boolean {
  if (!core.fleet) return false;
  return requestItems(core.db, id).some((i) => {
    const row = getPoolRow(core.db, i.pool);
    return row !== null && toPoolRecord(row).spec.fleet === true;
  });
}

/** How many of the fleet's ready VMs of `pool` a pending fleet request found at its last try (0 before one). */
export function fleetReadyToward(core: Core, id: string, pool: string): number {
  return lastStock.get(core)?.get(id)?.get(pool) ?? 0;
}

/** Starts a pass over the pending fleet requests unless one runs; never throws. */
export function fulfillFleetRequestsSoon(core: Core, fleet: Fleet): Promise<unknown> {
  const running = inFlight.get(core);
  if (running) return running;
  const pass = fulfillFleetRequests(core, fleet)
    .catch((e) => log.warn("fleet requests not fulfilled this pass", { error: errText(e) }))
    .finally(() => inFlight.delete(core));
  inFlight.set(core, pass);
  return pass;
}

/** The pass in progress (settled when there is none): a stopping host waits for it. */
export function fleetRequestsPass(core: Core): Promise<unknown> {
  return inFlight.get(core) ?? Promise.resolve();
}

/**
 * Oldest first, each pending fleet request is checked out fleet-wide (all or nothing). The request turns
 * ready in the same step that follows the etcd take (before any host records): a request cancelled
 * meanwhile gives the VMs back. Too little stock leaves it pending; a refusal that waiting cannot mend
 * (quota, projects, a deleted pool) fails it, as local requests fail.
 */
export async function fulfillFleetRequests(core: Core, fleet: Fleet): Promise<string[]> {
  const done: string[] = [];
  const seen = new Map<string, Map<string, number>>();
  for (const r of pendingRequests(core.db)) {
    if (!isFleetRequest(core, r.id)) continue;
    const items = requestItems(core.db, r.id);
    const gone = items.find((i) => getPoolRow(core.db, i.pool) === null);
    if (gone) {
      fail(core, r, `pool ${gone.pool} was deleted`);
      continue;
    }
    const counts = Object.fromEntries(items.map((i) => [i.pool, i.count]));
    // The owner is who the VMs are checked out for: the checkout counts their quota and projects, as a local hand-out does.
    const owner: Caller | null = r.owner === null ? null : { name: r.owner, admin: false, tokenId: null };
    try {
      const { vms } = await fleetCheckout(core, fleet, owner, counts, {
        ...(r.lifetime_hours !== null ? { lifetime: r.lifetime_hours } : {}),
        alongside: async (taken) => {
          const at = new Date().toISOString();
          core.db.transaction(() => {
            if (!moveRequest(core.db, r.id, "pending", "ready", { ready_at: at }))
              throw new Conflict(`request ${r.id} was cancelled meanwhile`);
            for (const i of items)
              setItemVms(
                core.db,
                r.id,
                i.pool,
                taken.filter((t) => t.pool === i.pool).map((t) => t.vm),
              );
          })();
        },
      });
      // A taken VM its host had drained is replaced by another of that host's: the request names what was handed out.
      for (const i of items)
        setItemVms(
          core.db,
          r.id,
          i.pool,
          vms.filter((v) => v.pool === i.pool).map((v) => v.name),
        );
      const lost = vms.filter((v) => v.status === "lost").map((v) => v.name);
      if (lost.length > 0) log.warn("a fleet request's VMs were lost on their host", { request: r.id, lost });
      core.events.publish("pool.request.ready", `request/${r.id}`, {
        vms: vms.map((v) => v.name),
        hosts: Object.fromEntries(vms.map((v) => [v.name, v.host])),
      });
      done.push(r.id);
    } catch (e) {
      if (e instanceof PoolEmpty) {
        seen.set(r.id, new Map(e.short.map((s) => [s.pool, s.ready])));
        continue; // the hosts refill: a later pass takes them
      }
      if (e instanceof Conflict && getRequest(core.db, r.id)?.status !== "pending") continue; // cancelled
      if (e instanceof AppError && e.httpStatus < 500) {
        fail(core, r, e.message);
        continue;
      }
      // etcd or a host not reachable, every try contended: still pending, tried again.
      log.warn("fleet request not fulfilled yet", { request: r.id, error: errText(e) });
    }
  }
  lastStock.set(core, seen);
  return done;
}

function fail(core: Core, r: RequestRow, reason: string): void {
  if (!moveRequest(core.db, r.id, "pending", "failed", { error: reason })) return;
  core.events.publish("pool.request.failed", `request/${r.id}`, { reason });
  log.warn("on-demand request failed", { request: r.id, reason });
}

/**
 * Returns a cancelled fleet request's VMs that live on other hosts: each is deleted on its host, asked
 * (signed) as the request's owner, so that host's own rules decide. Best effort: their lifetime ends them anyway.
 */
export async function releaseElsewhere(core: Core, vms: string[], owner: string | null): Promise<string[]> {
  const fleet = core.fleet;
  if (!fleet) return [];
  const caller: Caller | null = owner === null ? null : { name: owner, admin: false, tokenId: null };
  const released: string[] = [];
  for (const vm of vms) {
    try {
      const host = await hostHolding(core, vm);
      if (!host) continue; // gone already, or here (the local cancel handled it)
      const req = new Request(`http://localhost/v1/vms/${encodeURIComponent(vm)}`, { method: "DELETE" });
      const answer = await forwardTo(fleet, host, req, new Uint8Array(), caller);
      if (answer.ok) released.push(vm);
      else log.warn("fleet request vm not released", { vm, host: host.name, status: answer.status });
    } catch (e) {
      log.warn("fleet request vm not released", { vm, error: errText(e) });
    }
  }
  return released;
}
