// Checkout: hands out ready pool VMs all or nothing, in one SQLite transaction or savepoint; lifetimes of checked-out VMs.
import { countReady, type Lease, retagVm, stampVm, takeReady } from "../../db/checkout.ts";
import { groupCommitOf } from "../../db/group-commit.ts";
import { getMember, setLifetime } from "../../db/pools.ts";
import { vmByName } from "../../db/vms.ts";
import { AppError, BadRequest, Conflict, NotFound } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { assertProject } from "../auth/projects.ts";
import { checkQuota } from "../auth/quota.ts";
import type { Core } from "../context.ts";
import { refuseFleetPools } from "../fleet/pools-guard.ts";
import { countCheckout } from "../status/counters.ts";
import { vmTarget } from "../vms/records.ts";
import { findPool, type PoolRecord, poolTarget, resolvePools } from "./records.ts";
import type { PoolTier } from "./spec.ts";

const HOUR_MS = 3_600_000;

export interface CheckoutOptions {
  /** Who the VMs are for (the token's user); null without auth. */
  owner?: string | null;
  /** Hours from now; default the pool's lifetime; at most its max_lifetime. */
  lifetime?: number;
  /** Added to every VM's tags (next to `pool`). */
  tags?: Record<string, string>;
  /** The clock, in ms (tests). */
  now?: number;
}

export interface CheckedOutVm {
  name: string;
  pool: string;
  /** The name the caller asked for (the pool, or one of its aliases). */
  requested: string;
  owner: string | null;
  lifetime_hours: number;
  checked_out_at: string;
  expires_at: string;
}

export interface CheckoutResult {
  vms: CheckedOutVm[];
  /** Each pool's tier as the checkout read it (pool name → tier): what the VMs taken from it need to wake. */
  tiers: ReadonlyMap<string, PoolTier>;
}

/** 503: nothing was taken because these pools had too few ready VMs. */
export class PoolEmpty extends AppError {
  constructor(readonly short: { pool: string; requested: number; ready: number }[]) {
    super(
      503,
      "pool_empty",
      `not enough ready VMs in ${short.map((s) => `${s.pool} (asked ${s.requested}, ready ${s.ready})`).join(", ")}; nothing was checked out`,
      { details: { pools: short } },
    );
  }
}

/**
 * The lifetime a VM gets when none is asked for: [auth] vm_lifetime_hours for a token's user (vmpooler's
 * vm_lifetime_auth) when set, else the pool's; never past the pool's max_lifetime.
 */
export function defaultLifetime(core: Core, pool: PoolRecord, owner: string | null): number {
  const authed = core.config.auth.vm_lifetime_hours;
  const h = owner !== null && authed > 0 ? authed : pool.spec.lifetime;
  return Math.min(h, pool.spec.max_lifetime);
}

/** The lifetime a checkout gets: the one asked for or the default, never past max_lifetime (400). */
export function lifetimeFor(
  core: Core,
  pool: PoolRecord,
  hours: number | undefined,
  owner: string | null,
): number {
  const h = hours ?? defaultLifetime(core, pool, owner);
  if (!(h > 0) || h > pool.spec.max_lifetime) {
    throw new BadRequest(
      `lifetime ${h} h for pool ${pool.name} must be above 0 and at most ${pool.spec.max_lifetime} h`,
    );
  }
  return h;
}

/** Pools keep their VMs in project default: a user limited to other projects could not see one checked out (403). */
export function assertPoolProject(core: Core, owner: string | null): void {
  assertProject(core, owner, DEFAULT_PROJECT, "check out pool VMs (pools keep their VMs in it)");
}

/**
 * Every VM asked for, or none, in a transaction of its own: each move is guarded by `status = 'ready'`,
 * so a VM is never handed out twice. The HTTP routes use checkoutGrouped, which shares a commit.
 */
export function checkout(
  core: Core,
  request: Record<string, number>,
  opts: CheckoutOptions = {},
): CheckoutResult {
  try {
    return settled(core, core.db.transaction(() => takeVms(core, request, opts)).immediate());
  } catch (e) {
    throw failed(core, e);
  }
}

/**
 * The same checkout, applied with the other checkouts of this tick in one SQLite transaction (each in
 * its own savepoint, so it is still all or nothing) and answered only once that transaction committed.
 */
export async function checkoutGrouped(
  core: Core,
  request: Record<string, number>,
  opts: CheckoutOptions = {},
): Promise<CheckoutResult> {
  try {
    return settled(core, await groupCommitOf(core.db).run(() => takeVms(core, request, opts)));
  } catch (e) {
    throw failed(core, e);
  }
}

/** After the commit: count it and tell the event stream. */
function settled(core: Core, taken: CheckoutResult): CheckoutResult {
  countCheckout(core, "success");
  for (const vm of taken.vms) {
    core.events.publish("pool.checkout", poolTarget(vm.pool), {
      vm: vm.name,
      owner: vm.owner,
      expires_at: vm.expires_at,
    });
  }
  return taken;
}

function failed(core: Core, e: unknown): unknown {
  if (e instanceof PoolEmpty) countCheckout(core, "empty");
  else if (e instanceof BadRequest || e instanceof NotFound) countCheckout(core, "invalid");
  return e;
}

export interface Wanted {
  /** The name asked for: a pool, or an alias. */
  asked: string;
  /** The pools it may take from: the named pool, or every pool that has the alias. */
  pools: PoolRecord[];
  count: number;
}

/** Reads `{"<pool or alias>": count, …}`: 400 for a bad count or none, 404 for unknown names. */
export function resolveRequest(core: Core, request: Record<string, number>): Wanted[] {
  const wanted: Wanted[] = [];
  const unknown: string[] = [];
  for (const [asked, count] of Object.entries(request)) {
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw new BadRequest(`count for ${asked} must be an integer from 1 to 1000 (got ${count})`);
    }
    const pools = resolvePools(core, asked);
    if (pools.length === 0) unknown.push(asked);
    else wanted.push({ asked, pools, count });
  }
  if (unknown.length > 0) throw new NotFound(`no pool or alias named ${unknown.join(", ")}`);
  if (wanted.length === 0) throw new BadRequest('ask for at least one VM: {"<pool>": count}');
  return wanted;
}

interface Pick {
  vm: string;
  vmId: string;
  pool: PoolRecord;
  asked: string;
  lease: Lease;
}

/**
 * Moves ready VMs to checked_out for every name asked, inside the caller's transaction: pools named
 * directly first, then aliases, each taking from its pools in turn (the most stocked first). A moved VM
 * is no longer ready, so no later name of the same checkout can take it again.
 */
function takeReadyVms(
  core: Core,
  wanted: Wanted[],
  leaseOf: (p: PoolRecord) => Lease,
): { picks: Pick[]; short: PoolEmpty["short"] } {
  const picks: Pick[] = [];
  const short: PoolEmpty["short"] = [];
  const order = [...wanted].sort((a, b) => a.pools.length - b.pools.length);
  for (const w of order) {
    let need = w.count;
    const stock =
      w.pools.length === 1
        ? w.pools
        : w.pools
            .map((p) => ({ p, n: countReady(core.db, p.name, p.generation, w.count) }))
            .sort((a, b) => b.n - a.n || a.p.name.localeCompare(b.p.name))
            .map(({ p }) => p);
    for (const p of stock) {
      if (need === 0) break;
      const lease = leaseOf(p);
      const taken = takeReady(core.db, p.name, p.generation, need, lease);
      for (const t of taken) picks.push({ vm: t.vm_name, vmId: t.vm_id, pool: p, asked: w.asked, lease });
      need -= taken.length;
    }
    if (need > 0) short.push({ pool: w.asked, requested: w.count, ready: w.count - need });
  }
  return { picks, short };
}

/** The checkout's work, inside a transaction or savepoint: any throw undoes every move it made. */
function takeVms(core: Core, request: Record<string, number>, opts: CheckoutOptions): CheckoutResult {
  const wanted = resolveRequest(core, request);
  refuseFleetPools(core, wanted);
  const at = opts.now ?? Date.now();
  const checkedOutAt = new Date(at).toISOString();
  const owner = opts.owner ?? null;
  const total = wanted.reduce((n, w) => n + w.count, 0);
  assertPoolProject(core, owner);
  // Inside the transaction: two checkouts by one user cannot both slip under the quota.
  checkQuota(core, owner, total);
  const hoursOf = (p: PoolRecord) => opts.lifetime ?? defaultLifetime(core, p, owner);
  const { picks, short } = takeReadyVms(core, wanted, (p) => {
    const hours = hoursOf(p);
    // A lifetime out of bounds is refused below (after pool_empty, as before); the moves are undone then.
    const ok = hours > 0 && hours <= p.spec.max_lifetime;
    const expires = ok ? new Date(at + hours * HOUR_MS).toISOString() : checkedOutAt;
    return { checked_out_at: checkedOutAt, owner, lifetime_hours: hours, expires_at: expires };
  });
  if (short.length > 0) throw new PoolEmpty(short); // undoes the moves: nothing taken
  for (const { pool } of picks) lifetimeFor(core, pool, opts.lifetime, owner);
  const tiers = new Map(picks.map(({ pool }) => [pool.name, pool.spec.tier]));
  const vms = picks.map(({ vm, vmId, pool, asked, lease }) => {
    const before = stampVm(core.db, vmId, checkedOutAt);
    if (before !== null) {
      const tags = { ...(JSON.parse(before) as Record<string, string>), ...opts.tags, pool: pool.name };
      const json = JSON.stringify(tags);
      // vms_pool_tags records the tags and the user of a checked-out VM; unchanged tags it would not
      // record (only `pool`, no owner) make the rewrite a write that changes nothing: skipped.
      if (json !== before || owner !== null || Object.keys(tags).some((k) => k !== "pool")) {
        retagVm(core.db, vmId, json);
      }
    }
    return { name: vm, pool: pool.name, requested: asked, ...lease };
  });
  return { vms, tiers };
}

/** What a checked-out VM's lease looks like; null for a VM that is not checked out from a pool. */
export function leaseOf(core: Core, vmName: string): Omit<CheckedOutVm, "requested"> | null {
  const m = getMember(core.db, vmName);
  if (m?.status !== "checked_out" || m.checked_out_at === null || m.expires_at === null) return null;
  return {
    name: m.vm_name,
    pool: m.pool,
    owner: m.owner,
    lifetime_hours: m.lifetime_hours ?? 0,
    checked_out_at: m.checked_out_at,
    expires_at: m.expires_at,
  };
}

/**
 * PATCH lifetime: hours counted from checkout (absolute, as vmpooler does), at most the pool's
 * max_lifetime (400 beyond); 409 for a VM that is not checked out from a pool.
 */
export function setVmLifetime(core: Core, vmName: string, hours: number): Omit<CheckedOutVm, "requested"> {
  const m = getMember(core.db, vmName);
  if (m?.status !== "checked_out" || m.checked_out_at === null) {
    if (!vmByName(core.db, vmName)) throw new NotFound(`vm ${vmName} does not exist`);
    throw new Conflict(`vm ${vmName} is not checked out from a pool: it has no lifetime`);
  }
  let max: number;
  try {
    max = findPool(core, m.pool).spec.max_lifetime;
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    max = m.lifetime_hours ?? 0; // its pool was deleted: the lifetime can only shrink
  }
  if (!(hours > 0) || hours > max) {
    throw new BadRequest(`lifetime ${hours} h for vm ${vmName} must be above 0 and at most ${max} h`);
  }
  const expires = new Date(Date.parse(m.checked_out_at) + hours * HOUR_MS).toISOString();
  setLifetime(core.db, vmName, hours, expires);
  core.events.publish("pool.vm.lifetime", vmTarget(vmName), { lifetime_hours: hours, expires_at: expires });
  const lease = leaseOf(core, vmName);
  if (!lease) throw new Conflict(`vm ${vmName} was returned meanwhile`);
  return lease;
}
