// On-demand requests (vmpooler's /ondemandvm): VMs asked for beyond a pool's ready stock, handed out when built.

import { checkOutMember, getMember, getPoolRow, readyMembers } from "../../db/pools.ts";
import {
  getRequest,
  insertRequest,
  moveRequest,
  outstandingByPool,
  pendingRequests,
  type RequestRow,
  type RequestStatus,
  requestItems,
  setItemVms,
} from "../../db/requests.ts";
import { updateVm, vmByName } from "../../db/vms.ts";
import { AppError, Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import { actsAsAdmin, SYSTEM } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import { NotOwner } from "../auth/errors.ts";
import { checkQuota } from "../auth/quota.ts";
import type { Core } from "../context.ts";
import {
  checkFleetRequest,
  fleetReadyToward,
  isFleetRequest,
  releaseElsewhere,
} from "../fleet/pools-requests.ts";
import { newId } from "../names.ts";
import { deleteVmOp } from "../vms/delete.ts";
import { assertPoolProject, defaultLifetime, lifetimeFor, resolveRequest } from "./checkout.ts";
import { type PoolRecord, poolTarget, toPoolRecord } from "./records.ts";
import { wakeLater } from "./tiers.ts";

const HOUR_MS = 3_600_000;

export interface RequestPoolView {
  pool: string;
  requested: number;
  /** VMs of the pool ready now toward this request (all of them once the request is ready). */
  ready: number;
  pending: number;
  /** The VMs handed out, once the request is ready. */
  vms: string[];
}

export interface RequestView {
  id: string;
  owner: string | null;
  status: RequestStatus;
  ready: boolean;
  lifetime_hours: number | null;
  error: string | null;
  created_at: string;
  ready_at: string | null;
  pools: RequestPoolView[];
}

export const requestTarget = (id: string) => `request/${id}`;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Records a request for `{pool or alias: count}`; the scheduler builds the VMs and hands them out. */
export function createRequest(
  core: Core,
  body: Record<string, number>,
  opts: { owner?: string | null; lifetime?: number; now?: number; id?: string } = {},
): RequestView {
  const counts = new Map<string, number>();
  const wanted = resolveRequest(core, body);
  checkFleetRequest(core, wanted); // fleet pools: fulfilled fleet-wide (fleet/pools-requests.ts), not here
  for (const w of wanted) {
    const pool = servingPool(core, w.pools);
    // The pool's own lifetime is applied at hand-out; one asked for is checked against max_lifetime now.
    if (opts.lifetime !== undefined) lifetimeFor(core, pool, opts.lifetime, opts.owner ?? null);
    counts.set(pool.name, (counts.get(pool.name) ?? 0) + w.count);
  }
  const owner = opts.owner ?? null;
  assertPoolProject(core, owner);
  const total = [...counts.values()].reduce((n, c) => n + c, 0);
  checkQuota(core, owner, total); // refused now rather than after the VMs are built
  const id = opts.id ?? newId();
  if (getRequest(core.db, id)) throw new Conflict(`request ${id} already exists`);
  const items = [...counts].map(([pool, count]) => ({ pool, count }));
  insertRequest(
    core.db,
    {
      id,
      owner,
      lifetime_hours: opts.lifetime ?? null,
      created_at: new Date(opts.now ?? Date.now()).toISOString(),
    },
    items,
  );
  core.events.publish("pool.request.created", requestTarget(id), {
    owner,
    pools: Object.fromEntries(counts),
  });
  return requestView(core, id);
}

/** The one pool a request's name is served from: an alias covering several takes the most stocked one. */
function servingPool(core: Core, pools: PoolRecord[]): PoolRecord {
  const stock = (p: PoolRecord) => readyMembers(core.db, p.name, p.generation, 1000).length;
  return pools.reduce((best, p) => (stock(p) > stock(best) ? p : best));
}

/** A request as its owner, an admin, or anyone with [auth] public_reads sees it; 404 for the others. */
export function requestViewFor(core: Core, caller: Caller | null, id: string): RequestView {
  const r = getRequest(core.db, id);
  const mine = r !== null && r.owner !== null && r.owner === caller?.name;
  if (!r || !(mine || actsAsAdmin(core, caller) || core.config.auth.public_reads)) {
    throw new NotFound(`request ${id} does not exist`);
  }
  return requestView(core, id);
}

export function requestView(core: Core, id: string): RequestView {
  const r = getRequest(core.db, id);
  if (!r) throw new NotFound(`request ${id} does not exist`);
  const fleet = r.status === "pending" && isFleetRequest(core, id);
  const pools = requestItems(core.db, id).map((i): RequestPoolView => {
    const vms = JSON.parse(i.vms) as string[];
    if (r.status === "ready") return { pool: i.pool, requested: i.count, ready: i.count, pending: 0, vms };
    if (r.status !== "pending") return { pool: i.pool, requested: i.count, ready: 0, pending: 0, vms };
    const row = getPoolRow(core.db, i.pool);
    const ready = fleet
      ? Math.min(i.count, fleetReadyToward(core, id, i.pool))
      : row
        ? readyMembers(core.db, i.pool, row.generation, i.count).length
        : 0;
    return { pool: i.pool, requested: i.count, ready, pending: i.count - ready, vms };
  });
  return {
    id: r.id,
    owner: r.owner,
    status: r.status,
    ready: r.status === "ready",
    lifetime_hours: r.lifetime_hours,
    error: r.error,
    created_at: r.created_at,
    ready_at: r.ready_at,
    pools,
  };
}

/**
 * Cancels a pending request (its extra demand goes; the scheduler drains the surplus) or returns the
 * VMs of a ready one. Only its owner (or an admin) may, when auth is on; 409 once cancelled or failed.
 */
export function cancelRequest(core: Core, id: string, caller: Caller | null): RequestView {
  const r = getRequest(core.db, id);
  if (!r) throw new NotFound(`request ${id} does not exist`);
  if (!actsAsAdmin(core, caller) && (r.owner === null || caller?.name !== r.owner)) {
    throw new NotOwner(
      `request ${id} belongs to ${r.owner === null ? "nobody: only an admin" : "another user"}`,
    );
  }
  if (r.status === "cancelled" || r.status === "failed")
    throw new Conflict(`request ${id} is already ${r.status}`);
  // Synchronous from here: a scheduler pass cannot fulfil the request between the read and the move.
  if (!moveRequest(core.db, id, r.status, "cancelled")) throw new Conflict(`request ${id} changed meanwhile`);
  const released: string[] = [];
  const elsewhere: string[] = [];
  if (r.status === "ready") {
    const fleet = isFleetRequest(core, id);
    for (const item of requestItems(core.db, id)) {
      for (const vm of JSON.parse(item.vms) as string[]) {
        const m = getMember(core.db, vm);
        if (m === null && fleet) elsewhere.push(vm); // a fleet request's VM of another host: returned there
        // Returned early or given to someone else since: not this request's to release.
        if (m?.status !== "checked_out" || m.owner !== r.owner) continue;
        try {
          deleteVmOp(core, SYSTEM, vm); // the caller may cancel this request: its VMs go with it
          released.push(vm);
        } catch (e) {
          if (e instanceof NotFound) continue;
          // Busy (another action holds it): its lifetime still ends it; say so rather than fail the cancel.
          log.warn("request vm not released", { request: id, vm, error: errText(e) });
        }
      }
    }
  }
  core.events.publish("pool.request.cancelled", requestTarget(id), { was: r.status, released, elsewhere });
  if (elsewhere.length > 0) void releaseElsewhere(core, elsewhere, r.owner);
  return requestView(core, id);
}

/** Per pool, the VMs pending requests wait for: the scheduler builds them on top of the pool's size. */
export function extraDemand(core: Core): Map<string, number> {
  return outstandingByPool(core.db);
}

/**
 * Hands ready VMs to pending requests, oldest first, each all or nothing in one transaction guarded
 * by `status = 'ready'` (as checkout). A request still short holds back what it needs from younger ones.
 */
export function fulfillRequests(core: Core, now: number): string[] {
  const done: string[] = [];
  const held = new Map<string, number>();
  for (const r of pendingRequests(core.db)) {
    const items = requestItems(core.db, r.id);
    const pools = new Map<string, PoolRecord>();
    for (const i of items) {
      const row = getPoolRow(core.db, i.pool);
      if (row) pools.set(i.pool, toPoolRecord(row));
    }
    if (isFleetRequest(core, r.id)) continue; // fulfilled fleet-wide by the fleet's own pass
    const gone = items.find((i) => !pools.has(i.pool));
    if (gone) {
      fail(core, r, `pool ${gone.pool} was deleted`);
      continue;
    }
    const picks = new Map<string, string[]>();
    for (const i of items) {
      const pool = pools.get(i.pool) as PoolRecord;
      const skip = held.get(i.pool) ?? 0;
      picks.set(i.pool, readyMembers(core.db, i.pool, pool.generation, skip + i.count).slice(skip));
    }
    if (items.some((i) => (picks.get(i.pool)?.length ?? 0) < i.count)) {
      for (const i of items) held.set(i.pool, (held.get(i.pool) ?? 0) + i.count);
      continue;
    }
    try {
      assign(core, r, pools, picks, now);
      done.push(r.id);
    } catch (e) {
      if (e instanceof Conflict) continue; // rolled back: tried again on the next pass
      if (!(e instanceof AppError) || e.httpStatus >= 500) throw e;
      fail(core, r, e.message); // over the owner's quota or outside their projects now: it would wait forever
    }
  }
  return done;
}

function fail(core: Core, r: RequestRow, reason: string): void {
  if (!moveRequest(core.db, r.id, "pending", "failed", { error: reason })) return;
  core.events.publish("pool.request.failed", requestTarget(r.id), { reason });
  log.warn("on-demand request failed", { request: r.id, reason });
}

function assign(
  core: Core,
  r: RequestRow,
  pools: Map<string, PoolRecord>,
  picks: Map<string, string[]>,
  now: number,
): void {
  const at = new Date(now).toISOString();
  const total = [...picks.values()].reduce((n, p) => n + p.length, 0);
  const handed = core.db.transaction(() => {
    assertPoolProject(core, r.owner); // the owner's projects may have changed since the request
    checkQuota(core, r.owner, total);
    const out: { vm: string; pool: string; expires_at: string }[] = [];
    for (const [name, vms] of picks) {
      const pool = pools.get(name) as PoolRecord;
      const hours = Math.min(
        r.lifetime_hours ?? defaultLifetime(core, pool, r.owner),
        pool.spec.max_lifetime,
      );
      const expires = new Date(now + hours * HOUR_MS).toISOString();
      for (const vm of vms) {
        const f = { checked_out_at: at, owner: r.owner, lifetime_hours: hours, expires_at: expires };
        if (!checkOutMember(core.db, vm, f)) throw new Conflict(`vm ${vm} was taken meanwhile`);
        const row = vmByName(core.db, vm);
        if (row) {
          const tags = { ...(JSON.parse(row.tags) as Record<string, string>), pool: name };
          updateVm(core.db, row.id, { tags: JSON.stringify(tags), updated_at: at });
        }
        out.push({ vm, pool: name, expires_at: expires });
      }
      setItemVms(core.db, r.id, name, vms);
    }
    if (!moveRequest(core.db, r.id, "pending", "ready", { ready_at: at })) {
      throw new Conflict(`request ${r.id} was cancelled meanwhile`);
    }
    return out;
  })();
  for (const h of handed) {
    core.events.publish("pool.checkout", poolTarget(h.pool), {
      vm: h.vm,
      owner: r.owner,
      expires_at: h.expires_at,
      request: r.id,
    });
  }
  core.events.publish("pool.request.ready", requestTarget(r.id), { vms: handed.map((h) => h.vm) });
  // tiers: VMs of paused or saved pools are woken now (restoring until they run).
  wakeLater(
    core,
    handed.map((h) => ({ name: h.vm, pool: h.pool })),
  );
}
