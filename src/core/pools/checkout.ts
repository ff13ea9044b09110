// Checkout: hands out ready pool VMs all or nothing, in one SQLite transaction; lifetimes of checked-out VMs.
import { checkOutMember, getMember, readyMembers, setLifetime } from "../../db/pools.ts";
import { updateVm, vmByName } from "../../db/vms.ts";
import { AppError, BadRequest, Conflict, NotFound } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { assertProject } from "../auth/projects.ts";
import { checkQuota } from "../auth/quota.ts";
import type { Core } from "../context.ts";
import { countCheckout } from "../status/counters.ts";
import { vmTarget } from "../vms/records.ts";
import { findPool, type PoolRecord, poolTarget, resolvePools } from "./records.ts";

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
 * Every VM asked for, or none: the picks and the status moves run in one transaction, and each move
 * is guarded by `status = 'ready'`, so a VM is never handed out twice.
 */
export function checkout(
  core: Core,
  request: Record<string, number>,
  opts: CheckoutOptions = {},
): CheckoutResult {
  try {
    const result = checkoutAll(core, request, opts);
    countCheckout(core, "success");
    return result;
  } catch (e) {
    if (e instanceof PoolEmpty) countCheckout(core, "empty");
    else if (e instanceof BadRequest || e instanceof NotFound) countCheckout(core, "invalid");
    throw e;
  }
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
  pool: PoolRecord;
  asked: string;
}

/**
 * Chooses ready VMs for every name asked, inside the caller's transaction: pools named directly
 * first, then aliases, each taking from its pools in turn (the most stocked first), never one VM twice.
 */
function pickReady(core: Core, wanted: Wanted[]): { picks: Pick[]; short: PoolEmpty["short"] } {
  const taken = new Map<string, number>(); // per pool, ready VMs already picked in this checkout
  const available = (p: PoolRecord, n: number) => {
    const skip = taken.get(p.name) ?? 0;
    return readyMembers(core.db, p.name, p.generation, skip + n).slice(skip);
  };
  const picks: Pick[] = [];
  const short: PoolEmpty["short"] = [];
  const order = [...wanted].sort((a, b) => a.pools.length - b.pools.length);
  for (const w of order) {
    let need = w.count;
    const stock = w.pools
      .map((p) => ({ p, n: available(p, w.count).length }))
      .sort((a, b) => b.n - a.n || a.p.name.localeCompare(b.p.name));
    for (const { p } of stock) {
      if (need === 0) break;
      const vms = available(p, need);
      for (const vm of vms) picks.push({ vm, pool: p, asked: w.asked });
      taken.set(p.name, (taken.get(p.name) ?? 0) + vms.length);
      need -= vms.length;
    }
    if (need > 0) short.push({ pool: w.asked, requested: w.count, ready: w.count - need });
  }
  return { picks, short };
}

function checkoutAll(core: Core, request: Record<string, number>, opts: CheckoutOptions): CheckoutResult {
  const wanted = resolveRequest(core, request);
  const at = opts.now ?? Date.now();
  const checkedOutAt = new Date(at).toISOString();
  const owner = opts.owner ?? null;
  const total = wanted.reduce((n, w) => n + w.count, 0);
  assertPoolProject(core, owner);
  const vms = core.db.transaction((): CheckedOutVm[] => {
    // Inside the transaction: two checkouts by one user cannot both slip under the quota.
    checkQuota(core, owner, total);
    const { picks, short } = pickReady(core, wanted);
    if (short.length > 0) throw new PoolEmpty(short); // rolls the transaction back: nothing taken
    return picks.map(({ vm, pool, asked }) => {
      const hours = lifetimeFor(core, pool, opts.lifetime, owner);
      const expires = new Date(at + hours * HOUR_MS).toISOString();
      const lease = { checked_out_at: checkedOutAt, owner, lifetime_hours: hours, expires_at: expires };
      if (!checkOutMember(core.db, vm, lease)) {
        throw new Conflict(`vm ${vm} was taken meanwhile; nothing was checked out`);
      }
      const row = vmByName(core.db, vm);
      if (row) {
        const tags = { ...(JSON.parse(row.tags) as Record<string, string>), ...opts.tags, pool: pool.name };
        updateVm(core.db, row.id, { tags: JSON.stringify(tags), updated_at: checkedOutAt });
      }
      return { name: vm, pool: pool.name, requested: asked, ...lease };
    });
  })();

  for (const vm of vms) {
    core.events.publish("pool.checkout", poolTarget(vm.pool), {
      vm: vm.name,
      owner: vm.owner,
      expires_at: vm.expires_at,
    });
  }
  return { vms };
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
