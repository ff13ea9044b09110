// One pass of the pool scheduler: readiness, failures, recycling, expiry, draining and refill, as core calls.

import { groupCommitOf } from "../../db/group-commit.ts";
import {
  byCreated,
  countFailure,
  deleteMember,
  endedSince,
  getMember,
  lastHistorySeq,
  listPoolRows,
  membersNeedingAttention,
  membersNeedingReview,
  moveMember,
  type PoolMember,
  pendingMembers,
  readyBefore,
  setMemberVmId,
  stockCounts,
  surplusMembers,
} from "../../db/pools.ts";
import { vmByName } from "../../db/vms.ts";
import { AppError, Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import { SYSTEM } from "../auth/access.ts";
import type { Core } from "../context.ts";
import { generateName, labelOf, newId } from "../names.ts";
import { deleteVmOp } from "../vms/delete.ts";
import { vmTarget } from "../vms/records.ts";
import { slicer, yieldToLoop } from "../yield.ts";
import { type CreateMember, createMemberHere, memberRequest } from "./member-create.ts";
import { type PoolRecord, poolRecords, poolTarget, toPoolRecord } from "./records.ts";
import { extraDemand, fulfillRequests } from "./requests.ts";
import { parseReadyCheck } from "./spec.ts";
import { readyInTier, readyVmStatus, resumeRestore, waitsInTier } from "./tiers.ts";

const MINUTE_MS = 60_000;

export interface TickReport {
  created: string[];
  ready: string[];
  failed: string[];
  drained: string[];
  forgotten: string[];
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Drops a member berth itself gave up on; recorded as draining so its history is not read as a failure. */
function forget(core: Core, vmName: string): void {
  moveMember(core.db, vmName, ["pending", "ready", "checked_out"], "draining");
  deleteMember(core.db, vmName);
}

/** Per core, the last pool_history row a pass has looked at. */
const seen = new WeakMap<Core, number>();

/** Members whose VM vanished before it was drained: a create that failed (pending) or a VM deleted by hand. */
function noticeVanished(core: Core, r: TickReport): void {
  const from = seen.get(core) ?? 0;
  for (const h of endedSince(core.db, from)) {
    seen.set(core, h.seq);
    if (h.status === "pending") {
      countFailure(core.db, h.pool);
      core.events.publish("pool.vm.failed", poolTarget(h.pool), {
        vm: h.vm_name,
        reason: "vm vanished while pending",
      });
      r.failed.push(h.vm_name);
    } else if (h.status === "ready") {
      core.events.publish("pool.vm.gone", poolTarget(h.pool), {
        vm: h.vm_name,
        reason: "vm deleted while ready",
      });
    }
  }
}

/** Passes on one core never overlap: a refill must see the members the previous pass recorded. */
const running = new WeakMap<Core, Promise<unknown>>();

/**
 * How much a pass looks at: `full` reviews every member; `changed` only those in flux (pending, draining,
 * expired, restoring), skipping the scan of ready members; `refill` (after checkouts, which only take
 * from stock) tops pools up and answers requests.
 */
export type PassScope = "full" | "changed" | "refill";

export interface TickOptions {
  scope?: PassScope;
  /** How members are created: on this thread unless the scheduler has them made elsewhere (a Worker). */
  create?: CreateMember;
}

/** Member statuses a `changed` pass reads (membersNeedingAttention). */
const IN_FLUX = new Set(["pending", "draining"]);

/**
 * The pass a lifecycle event of VM `vmName` asks for: a member in flux (a refill's VMs being defined and
 * started) needs only the pass that reads those; any other VM's may have taken a ready member out of its
 * tier, so every member is reviewed.
 */
export function passForLifecycle(core: Core, vmName: string): PassScope {
  const member = getMember(core.db, vmName);
  return member && IN_FLUX.has(member.status) ? "changed" : "full";
}

/** Runs one pass after any pass in progress; `now` (ms) is the clock, injectable for tests. */
export function tick(core: Core, now: number = Date.now(), opts: TickOptions = {}): Promise<TickReport> {
  const prev = running.get(core) ?? Promise.resolve();
  const scope = opts.scope ?? "full";
  const create = opts.create ?? createMemberHere(core);
  const run = () =>
    scope === "refill" ? refillPass(core, now, create) : pass(core, now, scope === "full", create);
  const next = prev.then(run, run);
  running.set(core, next);
  return next;
}

/** Marks the member draining and asks for its VM's deletion; a busy VM is retried on a later pass. */
function drain(core: Core, m: PoolMember, reason: string, r: TickReport): void {
  if (m.status !== "draining") {
    if (!moveMember(core.db, m.vm_name, [m.status], "draining")) return; // checked out meanwhile
    core.events.publish("pool.vm.draining", poolTarget(m.pool), { vm: m.vm_name, reason });
    r.drained.push(m.vm_name);
  }
  if (core.locks.holder(vmTarget(m.vm_name))) return; // its create or another action is still running
  try {
    deleteVmOp(core, SYSTEM, m.vm_name);
  } catch (e) {
    if (e instanceof NotFound) deleteMember(core.db, m.vm_name);
    else if (!(e instanceof Conflict))
      throw new AppError(500, "internal", `draining vm ${m.vm_name}: ${errText(e)}`, { cause: e });
  }
}

function fail(core: Core, m: PoolMember, reason: string, r: TickReport): void {
  countFailure(core.db, m.pool);
  core.events.publish("pool.vm.failed", poolTarget(m.pool), { vm: m.vm_name, reason });
  log.warn("pool vm failed to become ready", { pool: m.pool, vm: m.vm_name, reason });
  r.failed.push(m.vm_name);
  drain(core, m, reason, r);
}

/** Requests, then refill: what a checkout can change. */
async function refillPass(core: Core, now: number, create: CreateMember): Promise<TickReport> {
  const r: TickReport = { created: [], ready: [], failed: [], drained: [], forgotten: [] };
  if (core.hv.state !== "up") return r;
  fulfillRequests(core, now);
  await refill(core, poolRecords(core), now, r, create);
  return r;
}

async function pass(
  core: Core,
  now: number,
  readyReview: boolean,
  create: CreateMember,
): Promise<TickReport> {
  const r: TickReport = { created: [], ready: [], failed: [], drained: [], forgotten: [] };
  if (core.hv.state !== "up") return r; // every call would fail; the "up" transition wakes the scheduler
  // History written before this core started belongs to an earlier run: not this run's failures.
  if (!seen.has(core)) seen.set(core, lastHistorySeq(core.db));
  noticeVanished(core, r);
  const pools = new Map(listPoolRows(core.db).map((row) => [row.name, toPoolRecord(row)]));
  const checks: Promise<void>[] = [];

  const checkpoint = slicer();
  for (const m of await attention(core, pools, now, readyReview)) {
    await checkpoint(); // hundreds of members (a refill's pending ones): the HTTP thread keeps serving
    const pool = pools.get(m.pool);
    if (m.vm_id === null) {
      // Recorded but a crash came before its VM's id: adopt the VM if it carries the pool's tag, else forget.
      const row = vmByName(core.db, m.vm_name);
      const tagged = row && (JSON.parse(row.tags) as Record<string, string>).pool === m.pool;
      if (row && tagged) setMemberVmId(core.db, m.vm_name, row.id);
      else {
        forget(core, m.vm_name);
        r.forgotten.push(m.vm_name);
      }
      continue;
    }
    if (m.status === "draining") {
      drain(core, m, "draining", r);
      continue;
    }
    if (m.status === "checked_out") {
      if (m.expires_at !== null && Date.parse(m.expires_at) <= now) {
        core.events.publish("pool.vm.expired", poolTarget(m.pool), {
          vm: m.vm_name,
          expires_at: m.expires_at,
        });
        drain(core, m, "lifetime ended", r);
      } else if (m.vm_status === "restoring") resumeRestore(core, m); // tiers: a wake a crash cut short
      continue;
    }
    if (!pool) {
      drain(core, m, "pool deleted", r);
      continue;
    }
    if (m.generation !== pool.generation) {
      drain(core, m, "pool changed or reset", r);
      continue;
    }
    if (m.status === "ready") {
      if (m.vm_status !== readyVmStatus(pool.spec.tier))
        drain(core, m, `vm is ${m.vm_status}`, r); // tiers
      else if (
        pool.spec.ready_ttl > 0 &&
        m.ready_at !== null &&
        Date.parse(m.ready_at) + pool.spec.ready_ttl * MINUTE_MS <= now
      )
        drain(core, m, "ready_ttl passed", r);
      continue;
    }
    // pending
    const late = Date.parse(m.created_at) + pool.spec.ready_timeout * MINUTE_MS <= now;
    // Its create (or another action) still runs: the recorded status is a step on the way, not a verdict.
    if (m.vm_status === "creating" || core.locks.holder(vmTarget(m.vm_name))) {
      if (late) fail(core, m, "not created within ready_timeout", r);
      continue;
    }
    if (m.vm_status !== "running" && !waitsInTier(pool, m.vm_status)) {
      fail(core, m, `vm is ${m.vm_status}`, r);
      continue;
    }
    const check = parseReadyCheck(pool.spec.ready_check) ?? { kind: "running" };
    checks.push(
      readyInTier(core, pool, m.vm_name, check).then(
        async (ok) => {
          // The members found ready in one pass share a commit.
          const ready_at = new Date(now).toISOString();
          const moved =
            ok &&
            (await groupCommitOf(core.db).run(
              () => moveMember(core.db, m.vm_name, ["pending"], "ready", { ready_at }),
              { background: true },
            ));
          if (moved) {
            core.events.publish("pool.vm.ready", poolTarget(m.pool), {
              vm: m.vm_name,
              check: pool.spec.ready_check,
            });
            r.ready.push(m.vm_name);
          } else if (!ok && late)
            fail(core, m, `not ready (${pool.spec.ready_check}) within ready_timeout`, r);
        },
        (e) => log.warn("pool readiness check failed", { vm: m.vm_name, error: errText(e) }),
      ),
    );
  }
  await Promise.all(checks);
  fulfillRequests(core, now);
  await refill(core, [...pools.values()], now, r, create);
  return r;
}

/**
 * The members this pass acts on: those needing attention, plus ready ones past their pool's ready_ttl.
 * Healthy ready and checked-out members (the bulk of a big pool) are not read at all.
 */
async function attention(
  core: Core,
  pools: Map<string, PoolRecord>,
  now: number,
  readyReview: boolean,
): Promise<PoolMember[]> {
  const at = new Date(now).toISOString();
  const out = readyReview ? await review(core, at) : membersNeedingAttention(core.db, at);
  const seenNames = new Set(out.map((m) => m.vm_name));
  for (const pool of pools.values()) {
    if (pool.spec.ready_ttl <= 0) continue;
    const cutoff = new Date(now - pool.spec.ready_ttl * MINUTE_MS).toISOString();
    for (const m of readyBefore(core.db, pool.name, pool.generation, cutoff)) {
      if (!seenNames.has(m.vm_name)) out.push(m);
    }
  }
  return out;
}

/** Members read per slice of the full review (about a millisecond of this thread each). */
const REVIEW_SLICE = 1000;

/**
 * The full review (every member, ready ones included) in slices of REVIEW_SLICE with a turn of the event
 * loop between them, so a pool of 10 000 never holds the HTTP thread in one piece; oldest first, as a pass
 * acts on them.
 */
async function review(core: Core, at: string): Promise<PoolMember[]> {
  const found = new Map<string, PoolMember>();
  let after = 0;
  for (;;) {
    const { members, next } = membersNeedingReview(core.db, at, after, REVIEW_SLICE);
    for (const m of members) found.set(m.vm_name, m); // a row rewritten meanwhile is read once
    if (next === null) break;
    after = next;
    await yieldToLoop();
  }
  return [...found.values()].sort(byCreated);
}

/** The starts of a refill's creates between two turns of the event loop (ms of this thread). */
const START_SLICE_MS = 1;

/** Per pool, creates VMs until pending + ready = size + what requests wait for, within the limit on creations. */
async function refill(
  core: Core,
  pools: PoolRecord[],
  now: number,
  r: TickReport,
  create: CreateMember,
): Promise<void> {
  let budget =
    core.config.scheduler.max_concurrent_creates -
    pendingMembers(core.db).filter(
      (m) =>
        m.vm_status === "creating" ||
        m.vm_id === null ||
        core.locks.holder(vmTarget(m.vm_name)) !== undefined,
    ).length;
  const counts = new Map(stockCounts(core.db).map((c) => [`${c.pool}\0${c.generation}`, c.n]));
  const extra = extraDemand(core);
  for (const pool of pools) {
    const target = pool.spec.size + (extra.get(pool.name) ?? 0);
    const stockCount = counts.get(`${pool.name}\0${pool.generation}`) ?? 0;
    // Too many (the size was lowered, a request cancelled): drain the surplus, ready ones first, the newest first.
    const surplus = stockCount - target;
    if (surplus > 0) {
      for (const m of surplusMembers(core.db, pool.name, pool.generation, surplus))
        drain(core, m, "pool size lowered or request cancelled", r);
      continue;
    }
    const missing = target - stockCount;
    if (missing <= 0 || budget <= 0) continue;
    // One create first: a pool whose recipe is broken right now is not hammered (and spends one of the
    // budget). The rest start in slices of START_SLICE_MS of this thread (each create plans its VM before
    // its first wait), so a request waits behind one slice, not behind every start; the creates of a
    // slice share group commits.
    budget--;
    if ((await createMember(core, pool, now, r, create)) === null) continue;
    const rest = Math.min(missing - 1, budget);
    budget -= rest;
    const started: Promise<string | null>[] = [];
    const slice = slicer(START_SLICE_MS);
    for (let i = 0; i < rest; i++) {
      started.push(createMember(core, pool, now, r, create));
      await slice();
    }
    await Promise.all(started);
  }
}

async function createMember(
  core: Core,
  pool: PoolRecord,
  now: number,
  r: TickReport,
  create: CreateMember,
): Promise<string | null> {
  const name = generateName(labelOf(pool.name));
  try {
    await create({
      pool: pool.name,
      generation: pool.generation,
      name,
      created_at: new Date(now).toISOString(),
      request: memberRequest(pool, name),
      operation: newId(),
    });
  } catch (e) {
    forget(core, name);
    countFailure(core.db, pool.name);
    core.events.publish("pool.vm.failed", poolTarget(pool.name), { vm: name, reason: errText(e) });
    log.warn("pool vm could not be created", { pool: pool.name, error: errText(e) });
    return null;
  }
  core.events.publish("pool.vm.creating", poolTarget(pool.name), { vm: name, generation: pool.generation });
  r.created.push(name);
  return name;
}
