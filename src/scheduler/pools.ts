// Runs the pool scheduler: a pass at start, every scheduler.interval_s, and whenever something pools care about changes.
import type { Core } from "../core/context.ts";
import { syncDeclaredPools } from "../core/pools/declared.ts";
import { tick } from "../core/pools/tick.ts";
import { log } from "../log.ts";
import { type PeriodicJob, startPeriodic } from "./periodic.ts";

/** Events that can change what a pool needs; the scheduler's own pool.vm.* decisions are not among them. */
const WAKE = new Set([
  "pool.created",
  "pool.updated",
  "pool.deleted",
  "pool.reset",
  "pool.checkout",
  "pool.request.created",
  "pool.request.cancelled",
  "vm.created",
  "vm.deleted",
  "domain.lifecycle",
]);
const WAKE_OPS = new Set(["vm.create", "vm.delete"]);
/**
 * Changes come in bursts (a storm of checkouts, a pool's creates finishing): one pass this long after the
 * first change covers the whole burst, instead of a pass per change competing with the requests for the
 * HTTP thread.
 */
const WAKE_DELAY_MS = 100;

/** Applies the pools declared in the config file (a broken one throws ConfigError), then starts the passes. */
export function startPoolScheduler(core: Core): PeriodicJob {
  syncDeclaredPools(core);
  const job = startPeriodic("pool scheduler", core.config.scheduler.interval_s * 1000, async (reason) => {
    const r = await tick(core);
    const changed =
      r.created.length + r.ready.length + r.failed.length + r.drained.length + r.forgotten.length;
    if (changed > 0) log.info("pool scheduler", { reason, ...r });
  });
  let wakeTimer: ReturnType<typeof setTimeout> | null = null;
  const wake = (reason: string) => {
    if (wakeTimer) return;
    wakeTimer = setTimeout(() => {
      wakeTimer = null;
      job.trigger(reason);
    }, WAKE_DELAY_MS);
  };
  const offEvents = core.events.subscribe((e) => {
    const opKind = e.type.startsWith("operation.") && e.type !== "operation.progress" ? e.data.kind : null;
    if (WAKE.has(e.type) || (typeof opKind === "string" && WAKE_OPS.has(opKind))) wake(e.type);
  });
  const offState = core.hv.onState((state) => {
    if (state === "up") wake("hypervisor up");
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
