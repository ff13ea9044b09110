// Runs the pool scheduler: a pass at start, every scheduler.interval_s, and whenever something pools care about changes.
import type { Core } from "../core/context.ts";
import { syncDeclaredPools } from "../core/pools/declared.ts";
import type { CreateMember } from "../core/pools/member-create.ts";
import { type PassScope, passForLifecycle, tick } from "../core/pools/tick.ts";
import { log } from "../log.ts";
import { type PeriodicJob, startPeriodic } from "./periodic.ts";

/**
 * Events that can change what a pool needs (the scheduler's own pool.vm.* decisions are not among them),
 * each with the pass it asks for: a checkout only takes from stock (refill); creates, deletions and requests
 * change members in flux (review those, then refill); the rest, like the interval and the start, may
 * have changed ready members too (review every member). A domain's lifecycle event asks for the pass its
 * VM's member needs (passForLifecycle).
 */
const WAKE: ReadonlyMap<string, PassScope> = new Map([
  ["pool.created", "changed"],
  ["pool.updated", "full"],
  ["pool.deleted", "full"],
  ["pool.reset", "full"],
  ["pool.checkout", "refill"],
  ["pool.request.created", "changed"],
  ["pool.request.cancelled", "changed"],
  ["vm.created", "changed"],
  ["vm.deleted", "changed"],
]);
const WAKE_OPS = new Set(["vm.create", "vm.delete"]);
const RANK: Record<PassScope, number> = { refill: 0, changed: 1, full: 2 };
const wider = (a: PassScope, b: PassScope) => (RANK[a] >= RANK[b] ? a : b);
/**
 * Changes come in bursts (a storm of checkouts, a pool's creates finishing): one pass this long after the
 * first change covers the whole burst, instead of a pass per change competing with the requests for the
 * HTTP thread.
 */
const WAKE_DELAY_MS = 100;

/**
 * Applies the pools declared in the config file (a broken one throws ConfigError), then starts the passes;
 * members are created with `opts.create` (their Worker) or else on this thread.
 */
export function startPoolScheduler(core: Core, opts: { create?: CreateMember } = {}): PeriodicJob {
  syncDeclaredPools(core);
  // The widest scope the events asked for since the last pass began. Any other reason (the start, the
  // interval, a caller's trigger) asks for a full pass, and so does a pass an interval after the last full
  // one: a steady stream of events must not starve the review of ready members.
  const intervalMs = core.config.scheduler.interval_s * 1000;
  const woken = new Set<string>(); // the reasons events give: event types and two operation kinds
  let due: PassScope = "full";
  let lastFull = 0;
  const job = startPeriodic("pool scheduler", intervalMs, async (reason) => {
    const at = Date.now();
    const scope = woken.has(reason) && at - lastFull < intervalMs ? due : "full";
    due = "refill";
    if (scope === "full") lastFull = at;
    const r = await tick(core, at, { scope, create: opts.create });
    const changed =
      r.created.length + r.ready.length + r.failed.length + r.drained.length + r.forgotten.length;
    if (changed > 0) log.info("pool scheduler", { reason, ...r });
  });
  let wakeTimer: ReturnType<typeof setTimeout> | null = null;
  const wake = (reason: string, scope: PassScope) => {
    due = wider(due, scope);
    woken.add(reason);
    if (wakeTimer) return;
    wakeTimer = setTimeout(() => {
      wakeTimer = null;
      job.trigger(reason);
    }, WAKE_DELAY_MS);
  };
  // A full pass already due needs no read of the domain's member.
  const lifecycleScope = (target: string): PassScope =>
    due === "full" ? "full" : passForLifecycle(core, target.slice("domain/".length));
  const offEvents = core.events.subscribe((e) => {
    const opKind = e.type.startsWith("operation.") && e.type !== "operation.progress" ? e.data.kind : null;
    const scope = e.type === "domain.lifecycle" ? lifecycleScope(e.target) : WAKE.get(e.type);
    if (scope) wake(e.type, scope);
    else if (typeof opKind === "string" && WAKE_OPS.has(opKind)) wake(`operation ${opKind}`, "changed");
  });
  const offState = core.hv.onState((state) => {
    if (state === "up") wake("hypervisor up", "full");
  });
  return {
    ...job,
    async stop() {
      offEvents();
      offState();
      if (wakeTimer) clearTimeout(wakeTimer);
      await job.stop();
    },
  };
}
