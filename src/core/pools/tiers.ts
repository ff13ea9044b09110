// Pool tiers: ready VMs wait running, paused (virDomainSuspend) or saved (virDomainManagedSave); woken on checkout.
import { moveMember, type PoolMember } from "../../db/pools.ts";
import { updateVm, type VmStatus, vmByName } from "../../db/vms.ts";
import { AppError, Conflict } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { asOperation } from "../reconcile/steps.ts";
import { now } from "../time.ts";
import { domainState } from "../vms/domain.ts";
import { recordState, statusOf } from "../vms/power.ts";
import { vmTarget } from "../vms/records.ts";
import { isReady } from "./readiness.ts";
import { type PoolRecord, poolNamed, poolTarget } from "./records.ts";
import type { PoolTier, ReadyCheck } from "./spec.ts";

/** The vms.status a ready VM of each tier has (the pools table's ready_vm_status says the same in SQL). */
const READY_STATUS: Record<PoolTier, VmStatus> = { running: "running", paused: "paused", saved: "stopped" };

export function readyVmStatus(tier: PoolTier): VmStatus {
  return READY_STATUS[tier];
}

/** A pending VM whose recorded status is its tier's has been put there already (a crash came before "ready"). */
export function waitsInTier(pool: PoolRecord, vmStatus: string | null): boolean {
  return pool.spec.tier !== "running" && vmStatus === READY_STATUS[pool.spec.tier];
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function record(core: Core, name: string, state: DomainState): void {
  const row = vmByName(core.db, name);
  if (row && row.status !== statusOf(state)) recordState(core, row.id, name, state);
}

/** Whether the domain waits in the tier now: paused, or shut off with a managed save image. */
export async function inTier(core: Core, name: string, tier: PoolTier): Promise<boolean> {
  const state = await domainState(core, name);
  if (tier === "paused") return state === "paused";
  if (tier === "saved") {
    return state === "shutoff" && (await core.hv.call("domain.hasManagedSave", { name }));
  }
  return state === "running";
}

/** Suspends or managed-saves a VM that passed its check; under the VM's lock, so no action races it. */
async function enterTier(core: Core, name: string, tier: Exclude<PoolTier, "running">): Promise<void> {
  await asOperation(core, "pool.vm.tier", vmTarget(name), async () => {
    if (tier === "paused") await core.hv.call("domain.suspend", { name });
    else await core.hv.call("domain.managedSave", { name });
    record(core, name, tier === "paused" ? "paused" : "shutoff");
  });
}

/**
 * Readiness for a pool with a tier: the pool's check passes, then the VM is put into its tier, and only
 * then is it ready. A VM found already in its tier (a crash came between the two) is ready as it is.
 */
export async function readyInTier(
  core: Core,
  pool: PoolRecord,
  name: string,
  check: ReadyCheck,
): Promise<boolean> {
  const tier = pool.spec.tier;
  if (tier === "running") return isReady(core, name, check);
  if (await inTier(core, name, tier)) {
    record(core, name, tier === "paused" ? "paused" : "shutoff");
    return true;
  }
  if (!(await isReady(core, name, check))) return false;
  try {
    await enterTier(core, name, tier);
    return true;
  } catch (e) {
    // Not ready: retried on the next pass, failed once past ready_timeout.
    log.warn("pool vm could not be put into its tier", {
      pool: pool.name,
      vm: name,
      tier,
      error: errText(e),
    });
    return false;
  }
}

/** 503: a VM of the pool could not be woken and no replacement was ready; nothing was checked out. */
export class RestoreFailed extends AppError {
  constructor(message: string, opts?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(503, "restore_failed", message, opts);
  }
}

/** Records VMs as restoring (woken after checkout, not running yet), in one transaction. */
export function markRestoring(core: Core, names: string[]): void {
  const at = now();
  core.db.transaction(() => {
    for (const name of names) {
      const row = vmByName(core.db, name);
      if (row) updateVm(core.db, row.id, { status: "restoring", updated_at: at });
    }
  })();
  for (const name of names) core.events.publish("vm.restoring", vmTarget(name), {});
}

/**
 * Wakes a checked-out VM from whichever tier its domain is in: resume (paused), or start, which restores
 * libvirt's managed save (saved). Resolves with the time taken once libvirt says it runs; the lock is
 * taken synchronously, so nothing acts on the VM in between.
 */
export function wakeVm(core: Core, name: string): Promise<number> {
  const started = performance.now();
  return asOperation(core, "pool.vm.restore", vmTarget(name), async () => {
    const state = await domainState(core, name);
    let tier: PoolTier;
    if (state === "paused") {
      tier = "paused";
      await core.hv.call("domain.resume", { name });
    } else if (state === "shutoff" && (await core.hv.call("domain.hasManagedSave", { name }))) {
      tier = "saved";
      await core.hv.call("domain.create", { name });
    } else if (state === "running") {
      tier = "running"; // already woken (a crash came after its restore, before its record)
    } else {
      // Without its image a start would boot the guest afresh: not the VM that passed its check.
      throw new Conflict(`vm ${name} is ${state ?? "absent"}: neither paused nor saved`);
    }
    const after = await domainState(core, name);
    if (after !== "running") throw new Conflict(`vm ${name} is ${after ?? "absent"} after its restore`);
    record(core, name, "running");
    const ms = Math.round(performance.now() - started);
    core.events.publish("vm.restored", vmTarget(name), { tier, ms });
    return ms;
  });
}

/** Takes a checked-out VM back from its caller: its member drains (the scheduler deletes the VM). */
export function drainCheckedOut(core: Core, name: string, pool: string, reason: string): void {
  if (moveMember(core.db, name, ["checked_out"], "draining")) {
    core.events.publish("pool.vm.draining", poolTarget(pool), { vm: name, reason });
  }
}

/** A VM whose wake failed is never handed out broken: it drains, and pool.vm.restore_failed says why. */
export function dropBroken(core: Core, name: string, pool: string, e: unknown): void {
  drainCheckedOut(core, name, pool, `restore failed: ${errText(e)}`);
  core.events.publish("pool.vm.restore_failed", poolTarget(pool), { vm: name, error: errText(e) });
  log.warn("pool vm could not be restored", { pool, vm: name, error: errText(e) });
}

/** Scheduler hook: a checked-out VM left `restoring` by a crash (no action holds it) is woken again. */
export function resumeRestore(core: Core, m: PoolMember): void {
  if (core.locks.holder(vmTarget(m.vm_name))) return;
  wakeVm(core, m.vm_name).catch((e) => dropBroken(core, m.vm_name, m.pool, e));
}

/**
 * Hands-out without a wait (checkout with wait=false, fulfilled on-demand requests): the VMs of paused
 * or saved pools are marked restoring and woken in the background; one that fails drains. Returns them.
 * `tierOf` gives each pool's tier (a checkout passes what its transaction read; default the cached records).
 */
export function wakeLater(
  core: Core,
  vms: { name: string; pool: string }[],
  tierOf: (pool: string) => PoolTier = (pool) => tierOfPool(core, pool),
): Set<string> {
  const asleep = vms.filter((vm) => tierOf(vm.pool) !== "running");
  if (asleep.length === 0) return new Set();
  markRestoring(
    core,
    asleep.map((vm) => vm.name),
  );
  for (const vm of asleep) wakeVm(core, vm.name).catch((e) => dropBroken(core, vm.name, vm.pool, e));
  return new Set(asleep.map((vm) => vm.name));
}

/** A pool's tier; running for a pool that is gone. */
export function tierOfPool(core: Core, pool: string): PoolTier {
  return poolNamed(core, pool)?.spec.tier ?? "running";
}
