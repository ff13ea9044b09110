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
const CHECKOUT = "pool.checkout";
/**
 * Changes come in bursts (a storm of checkouts, a pool's creates finishing): one pass this long after the
 * first change covers the whole burst, instead of a pass per change competing with the requests for the
 * HTTP thread.
 */
const WAKE_DELAY_MS = 100;

/** Applies the pools declared in the config file (a broken one throws ConfigError), then starts the passes. */
export function startPoolScheduler(core: Core): PeriodicJob {
  syncDeclaredPools(core);
  // Checkouts only take from stock: a pass they alone wake just refills. Any other reason since the last
  // full pass (the interval, an event, the start) asks for a full one.
  let fullDue = true;
  const job = startPeriodic("pool scheduler", core.config.scheduler.interval_s * 1000, async (reason) => {
    if (reason !== CHECKOUT) fullDue = true;
    const refillOnly = !fullDue;
    fullDue = false;
    const r = await tick(core, Date.now(), { refillOnly });
    const changed =
      r.created.length + r.ready.length + r.failed.length + r.drained.length + r.forgotten.length;
    if (changed > 0) log.info("pool scheduler", { reason, ...r });
  });
  let wakeTimer: ReturnType<typeof setTimeout> | null = null;
  let wakeReason = CHECKOUT;
  const wake = (reason: string) => {
    if (reason !== CHECKOUT) {
      fullDue = true;
      wakeReason = reason;
    }
    if (wakeTimer) return;
    wakeTimer = setTimeout(() => {
      wakeTimer = null;
      const why = wakeReason;
      wakeReason = CHECKOUT;
      job.trigger(why);
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
