// Fleet-wide checkout: picks ready VMs of fleet pools on any host and takes them all in one etcd transaction.
import { randomUUID } from "node:crypto";
import { AppError, BadRequest } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Caller } from "../auth/caller.ts";
import { checkQuota } from "../auth/quota.ts";
import type { Core } from "../context.ts";
import {
  assertPoolProject,
  type CheckedOutVm,
  defaultLifetime,
  lifetimeFor,
  PoolEmpty,
  resolveRequest,
  type Wanted,
} from "../pools/checkout.ts";
import type { PoolRecord } from "../pools/records.ts";
import { countCheckout } from "../status/counters.ts";
import { FleetUnavailable, HostUnreachable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { forwardTo } from "./forward.ts";
import { type HostRecord, liveHosts } from "./members.ts";
import {
  type CheckoutRecord,
  checkoutKey,
  type ReadyValue,
  readPoolEntries,
  readyKey,
  type TakenValue,
  takenKey,
} from "./pools-keys.ts";
import { type Recorded, type RecordedStatus, recordCheckout } from "./pools-record.ts";

const HOUR_MS = 3_600_000;
/** etcd allows 128 operations in a transaction (--max-txn-ops); each VM takes two, the record one. */
export const FLEET_CHECKOUT_MAX = 60;
/** Transactions lost to another checkout before this one gives up (each re-reads the stock). */
const ATTEMPTS = 25;
/** How long a holding host may take to record its VMs; one that does not settles from etcd later. */
const RECORD_TIMEOUT_MS = 10_000;

/** unconfirmed: taken in etcd, its host did not answer (it records the VM when it is back); lost: its host no longer had it. */
export type FleetVmStatus = RecordedStatus | "unconfirmed";
export type FleetCheckedOutVm = CheckedOutVm & { host: string; status: FleetVmStatus };

export interface FleetCheckoutOptions {
  lifetime?: number;
  tags?: Record<string, string>;
  /** Runs once the VMs are taken in etcd (given what was taken), before any host records them; a throw gives them back (nothing taken). */
  alongside?: (taken: readonly { vm: string; pool: string; host: string }[]) => Promise<void>;
}

/** 503: every try lost a race with other checkouts for the same VMs; nothing was taken, a retry may succeed. */
export class CheckoutContended extends AppError {
  constructor(message: string) {
    super(503, "checkout_contended", message);
  }
}

export interface Stock {
  vm: string;
  pool: string;
  host: string;
  readyAt: string;
  mod: string;
}

/** The pools a checkout names that are fleet pools; on a host outside a fleet there are none. */
export function fleetPoolsOf(core: Core, wanted: Wanted[]): PoolRecord[] {
  if (!core.fleet) return [];
  return wanted.flatMap((w) => w.pools).filter((p) => p.spec.fleet === true);
}

/** Every published ready VM of `pools` on a live host. */
async function readStock(fleet: Fleet, pools: Set<string>, live: Map<string, HostRecord>): Promise<Stock[]> {
  const out: Stock[] = [];
  for (const k of await readPoolEntries(fleet, "the fleet pools' stock")) {
    if (k.kind !== "ready" || !pools.has(k.pool)) continue;
    const v = JSON.parse(k.value) as ReadyValue;
    if (!live.has(v.host)) continue;
    out.push({ vm: k.vm, pool: k.pool, host: v.host, readyAt: v.ready_at ?? "", mod: k.mod });
  }
  return out;
}

/**
 * Per name asked (pools named directly first), ready VMs of its pools: this host's first, then the least
 * loaded live host's, each host's oldest first; a VM is picked once.
 */
export function pickStock(
  here: string,
  wanted: Wanted[],
  stock: Stock[],
  live: Map<string, HostRecord>,
): { picks: (Stock & { asked: string })[]; short: PoolEmpty["short"] } {
  const rank = (h: string) =>
    h === here ? [-1, 0] : [live.get(h)?.load ?? 0, live.get(h)?.allocation.memory_mib ?? 0];
  const ordered = [...stock].sort((a, b) => {
    const [ra, rb] = [rank(a.host), rank(b.host)] as [number[], number[]];
    return (
      (ra[0] as number) - (rb[0] as number) ||
      (ra[1] as number) - (rb[1] as number) ||
      a.host.localeCompare(b.host) ||
      a.readyAt.localeCompare(b.readyAt) ||
      a.vm.localeCompare(b.vm)
    );
  });
  const used = new Set<string>();
  const picks: (Stock & { asked: string })[] = [];
  const short: PoolEmpty["short"] = [];
  for (const w of [...wanted].sort((a, b) => a.pools.length - b.pools.length)) {
    const names = new Set(w.pools.map((p) => p.name));
    let got = 0;
    for (const s of ordered) {
      if (got === w.count) break;
      if (!names.has(s.pool) || used.has(s.vm)) continue;
      used.add(s.vm);
      picks.push({ ...s, asked: w.asked });
      got++;
    }
    if (got < w.count) short.push({ pool: w.asked, requested: w.count, ready: got });
  }
  return { picks, short };
}

/** Asks `host` (signed) to record its VMs of checkout `id`; null when it does not answer in time. */
async function askToRecord(
  fleet: Fleet,
  host: HostRecord,
  id: string,
): Promise<Map<string, Recorded> | null> {
  const req = new Request(`http://localhost/v1/fleet/checkouts/${encodeURIComponent(id)}/record`, {
    method: "POST",
  });
  try {
    const answer = await Promise.race([
      forwardTo(fleet, host, req, new Uint8Array(), null),
      Bun.sleep(RECORD_TIMEOUT_MS).then(() => {
        throw new HostUnreachable(`host ${host.name} did not record checkout ${id} in time`);
      }),
    ]);
    if (!answer.ok) throw new HostUnreachable(`host ${host.name} answered ${answer.status}`);
    const body = (await answer.json()) as { vms: ({ name: string } & Recorded)[] };
    return new Map(body.vms.map(({ name, ...r }) => [name, r]));
  } catch (e) {
    log.warn("a fleet checkout's host did not record it; it settles from etcd when back", {
      host: host.name,
      checkout: id,
      error: e instanceof Error ? e.message : String(e),
    });
    return null;
  }
}

/**
 * Checks out `request` (names of fleet pools) from any hosts, all or nothing: the picks are taken in one
 * etcd transaction that compares each ready key's revision, so a VM another checkout took makes it
 * retry with a fresh read, and too little stock fleet-wide takes nothing (503 pool_empty). Each holding
 * host then records its VMs; the answer names each VM's host.
 */
export async function fleetCheckout(
  core: Core,
  fleet: Fleet,
  caller: Caller | null,
  request: Record<string, number>,
  opts: FleetCheckoutOptions = {},
): Promise<{ vms: FleetCheckedOutVm[] }> {
  try {
    return await takeFromFleet(core, fleet, caller, request, opts);
  } catch (e) {
    if (e instanceof PoolEmpty) countCheckout(core, "empty");
    else if (e instanceof BadRequest) countCheckout(core, "invalid");
    throw e;
  }
}

async function takeFromFleet(
  core: Core,
  fleet: Fleet,
  caller: Caller | null,
  request: Record<string, number>,
  opts: FleetCheckoutOptions,
): Promise<{ vms: FleetCheckedOutVm[] }> {
  const wanted = resolveRequest(core, request);
  const local = wanted.flatMap((w) => w.pools).filter((p) => p.spec.fleet !== true);
  if (local.length > 0)
    throw new BadRequest(
      `pools ${local.map((p) => p.name).join(", ")} are not fleet pools: check them out apart from fleet pools`,
    );
  const owner = caller?.name ?? null;
  const total = wanted.reduce((n, w) => n + w.count, 0);
  if (total > FLEET_CHECKOUT_MAX)
    throw new BadRequest(`a fleet checkout takes at most ${FLEET_CHECKOUT_MAX} VMs (asked ${total})`);
  assertPoolProject(core, owner);
  checkQuota(core, owner, total);
  for (const w of wanted) for (const p of w.pools) lifetimeFor(core, p, opts.lifetime, owner);
  const pools = new Map(wanted.flatMap((w) => w.pools).map((p) => [p.name, p]));
  const id = randomUUID();

  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const live = await liveHosts(fleet);
    const stock = await readStock(fleet, new Set(pools.keys()), live);
    const { picks, short } = pickStock(fleet.name, wanted, stock, live);
    if (short.length > 0) throw new PoolEmpty(short);
    const at = Date.now();
    const checkedOutAt = new Date(at).toISOString();
    const taken = picks.map((p): TakenValue & { vm: string } => {
      const pool = pools.get(p.pool) as PoolRecord;
      const hours = opts.lifetime ?? defaultLifetime(core, pool, owner);
      return {
        vm: p.vm,
        checkout: id,
        host: p.host,
        pool: p.pool,
        requested: p.asked,
        tags: { ...opts.tags },
        checked_out_at: checkedOutAt,
        owner,
        lifetime_hours: hours,
        expires_at: new Date(at + hours * HOUR_MS).toISOString(),
      };
    });
    const record: CheckoutRecord = {
      id,
      owner,
      caller: caller?.name ?? null,
      from: fleet.name,
      at: checkedOutAt,
      vms: picks.map((p) => ({ name: p.vm, pool: p.pool, host: p.host })),
    };
    const [first, ...rest] = picks;
    if (!first) throw new BadRequest('ask for at least one VM: {"<pool>": count}');
    let tx = fleet.etcd.if(readyKey(fleet, first.pool, first.vm), "Mod", "==", first.mod);
    for (const p of rest) tx = tx.and(readyKey(fleet, p.pool, p.vm), "Mod", "==", p.mod);
    const ops = [
      ...picks.map((p) => fleet.etcd.delete().key(readyKey(fleet, p.pool, p.vm))),
      ...taken.map(({ vm, ...value }) =>
        fleet.etcd.put(takenKey(fleet, value.pool, vm)).value(JSON.stringify(value)),
      ),
      fleet.etcd.put(checkoutKey(fleet, id)).value(JSON.stringify(record)),
    ];
    // A commit whose answer is lost may still have applied: the holding hosts then record it for the owner.
    const result = await tx
      .then(...ops)
      .commit()
      .catch((e) => {
        throw new FleetUnavailable("the fleet checkout could not be committed: etcd is not reachable", {
          cause: e,
        });
      });
    if (!result.succeeded) continue; // another checkout took one of the picks: read again
    if (opts.alongside) {
      try {
        await opts.alongside(taken);
      } catch (e) {
        await giveBack(fleet, id, taken);
        throw e;
      }
    }
    return { vms: await recordEverywhere(core, fleet, id, taken, live) };
  }
  throw new CheckoutContended(
    `other checkouts kept taking the same VMs (${ATTEMPTS} tries); nothing was checked out`,
  );
}

/**
 * Undoes a take no host recorded yet: the taken keys and the record go, and each host publishes its VMs
 * again at its next sync (they stayed ready there; hosts leave fresh taken keys to this host for 15 s).
 */
async function giveBack(fleet: Fleet, id: string, taken: (TakenValue & { vm: string })[]): Promise<void> {
  await fleet.etcd
    .if(checkoutKey(fleet, id), "Create", ">", 0)
    .then(
      ...taken.map((t) => fleet.etcd.delete().key(takenKey(fleet, t.pool, t.vm))),
      fleet.etcd.delete().key(checkoutKey(fleet, id)),
    )
    .commit()
    .catch((e) =>
      log.error("a fleet checkout that failed could not give its VMs back; their hosts record them", {
        checkout: id,
        error: String(e),
      }),
    );
}

/** Tells each holding host to record its VMs (this host records its own); drops the checkout record once all did. */
async function recordEverywhere(
  core: Core,
  fleet: Fleet,
  id: string,
  taken: (TakenValue & { vm: string })[],
  live: Map<string, HostRecord>,
): Promise<FleetCheckedOutVm[]> {
  const hosts = [...new Set(taken.map((t) => t.host))];
  const answers = await Promise.all(
    hosts.map(async (h): Promise<[string, Map<string, Recorded> | null]> => {
      if (h === fleet.name) {
        try {
          const r = await recordCheckout(core, fleet, id);
          return [h, new Map(r.vms.map(({ name, ...rest }) => [name, rest]))];
        } catch (e) {
          log.warn("this host's part of a fleet checkout is not recorded yet; it settles from etcd", {
            checkout: id,
            error: e instanceof Error ? e.message : String(e),
          });
          return [h, null];
        }
      }
      const host = live.get(h);
      return [h, host ? await askToRecord(fleet, host, id) : null];
    }),
  );
  const byHost = new Map(answers);
  if (answers.every(([, a]) => a !== null))
    await fleet.etcd
      .delete()
      .key(checkoutKey(fleet, id))
      .catch((e) => log.warn("fleet checkout record not dropped", { checkout: id, error: String(e) }));
  countCheckout(core, "success");
  return taken.map((t) => {
    const r = byHost.get(t.host)?.get(t.vm);
    return {
      name: r?.replaced_by ?? t.vm,
      pool: t.pool,
      requested: t.requested,
      owner: t.owner,
      lifetime_hours: t.lifetime_hours,
      checked_out_at: t.checked_out_at,
      expires_at: t.expires_at,
      host: t.host,
      status: r?.status ?? "unconfirmed",
    };
  });
}
