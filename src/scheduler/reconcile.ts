// Runs reconcile at start, every reconcile.interval_s and whenever the hypervisor comes back up.
import type { Core } from "../core/context.ts";
import { recordPass } from "../core/reconcile/passes.ts";
import { type ReconcileReport, reconcile } from "../core/reconcile/reconcile.ts";
import { log } from "../log.ts";
import { type PeriodicJob, startPeriodic } from "./periodic.ts";

export interface Reconciler extends PeriodicJob {
  /** The report of the last pass that completed, if any. */
  last(): ReconcileReport | null;
}

/** True when the pass changed something (reported orphans were logged once, when first seen). */
function changed(r: ReconcileReport): boolean {
  return (
    r.gone.length + r.cleaned.length + r.synced.length > 0 || r.orphans.some((o) => o.action !== "reported")
  );
}

export function startReconciler(core: Core): Reconciler {
  let last: ReconcileReport | null = null;
  const job = startPeriodic("reconcile", core.config.reconcile.interval_s * 1000, async (reason) => {
    // While libvirtd is down every call fails at once; the "up" transition below triggers a pass.
    if (core.hv.state !== "up") {
      log.debug("reconcile skipped: hypervisor not up", { reason, state: core.hv.state });
      return;
    }
    const t0 = performance.now();
    const ended = () => Math.round(performance.now() - t0);
    let report: ReconcileReport;
    try {
      report = await reconcile(core);
    } catch (e) {
      recordPass(core, "errors", Date.now(), ended());
      throw e;
    }
    last = report;
    const ms = ended();
    recordPass(core, report.errors.length > 0 ? "errors" : "ok", Date.now(), ms);
    if (report.errors.length > 0)
      log.warn("reconcile finished with errors", { reason, ms, errors: report.errors });
    else if (changed(report)) log.info("reconcile", { reason, ms, ...report });
    else log.debug("reconcile: in step", { reason, ms, checked: report.checked });
  });
  const off = core.hv.onState((state) => {
    if (state === "up") job.trigger("hypervisor up");
  });
  return {
    ...job,
    last: () => last,
    async stop() {
      off();
      await job.stop();
    },
  };
}
