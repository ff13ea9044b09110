// GET /metrics: pool gauges, checkout counters, duration histograms, errors, libvirt, HTTP, process, VMs and users.
import { bootSpans, cloneSpans, failedOperationsByKind, type Span } from "../../db/history.ts";
import type { Core } from "../context.ts";
import { reconcilePasses } from "../reconcile/passes.ts";
import { checkoutCounts } from "./counters.ts";
import { Exposition } from "./exposition.ts";
import { liveMetrics } from "./live-metrics.ts";
import { renderProcessMetrics } from "./process-metrics.ts";
import { renderStateMetrics } from "./state-metrics.ts";
import { poolStatus } from "./status.ts";

export { escapeLabel } from "./exposition.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds (seconds) of the clone and ready-time histogram buckets. */
export const DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800] as const;

function byPool(spans: Span[], pools: string[]): Map<string, number[]> {
  const m = new Map<string, number[]>(pools.map((p) => [p, []]));
  for (const s of spans) m.set(s.pool, [...(m.get(s.pool) ?? []), s.seconds]);
  return m;
}

/** Reconcile passes since start by outcome, and when the last one ended (0 before the first) and how long it took. */
function renderReconcile(e: Exposition, core: Core): void {
  const passes = reconcilePasses(core);
  e.family("berth_reconcile_passes_total", "reconcile passes since start, by outcome", "counter");
  e.sample("berth_reconcile_passes_total", { outcome: "ok" }, passes.ok);
  e.sample("berth_reconcile_passes_total", { outcome: "errors" }, passes.errors);
  e.family(
    "berth_reconcile_last_pass_timestamp_seconds",
    "when the last reconcile pass ended (Unix time; 0 before the first)",
    "gauge",
  );
  e.sample("berth_reconcile_last_pass_timestamp_seconds", {}, (passes.lastEndedAt ?? 0) / 1000);
  e.family("berth_reconcile_last_pass_duration_seconds", "how long the last reconcile pass took", "gauge");
  e.sample("berth_reconcile_last_pass_duration_seconds", {}, (passes.lastMs ?? 0) / 1000);
}

/** `perUser`: include each owner's usage (user names: the route gives it to admins only when auth is on). */
export function renderMetrics(
  core: Core,
  now: number = Date.now(),
  opts: { perUser?: boolean } = {},
): string {
  const e = new Exposition();
  const status = poolStatus(core, now);
  const gauges = [
    ["berth_pool_size", "VMs a pool keeps (pending + ready)", "size"],
    ["berth_pool_ready", "ready VMs in a pool", "ready"],
    ["berth_pool_pending", "VMs of a pool being created or not yet ready", "pending"],
    ["berth_pool_checked_out", "checked-out VMs of a pool", "running"],
  ] as const;
  for (const [name, help, field] of gauges) {
    e.family(name, help, "gauge");
    for (const p of status.pools) e.sample(name, { pool: p.name }, p[field]);
  }
  e.family("berth_checkouts_total", "checkout requests since start, by outcome", "counter");
  for (const [outcome, n] of Object.entries(checkoutCounts(core)))
    e.sample("berth_checkouts_total", { outcome }, n);

  const names = status.pools.map((p) => p.name);
  const all = ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"] as const;
  e.family(
    "berth_clone_seconds",
    "pool VM creation, from its create operation's start to the VM running",
    "histogram",
  );
  for (const [pool, s] of byPool(cloneSpans(core.db, ...all), names))
    e.histogram("berth_clone_seconds", { pool }, DURATION_BUCKETS, s);
  e.family(
    "berth_ready_seconds",
    "pool VM boot, from its creation to passing its readiness check",
    "histogram",
  );
  for (const [pool, s] of byPool(bootSpans(core.db, ...all), names))
    e.histogram("berth_ready_seconds", { pool }, DURATION_BUCKETS, s);

  e.family("berth_operation_errors_total", "failed operations recorded, by kind", "counter");
  for (const { kind, n } of failedOperationsByKind(core.db))
    e.sample("berth_operation_errors_total", { kind }, n);
  e.family("berth_libvirt_up", "1 when berth's libvirt connection is up, else 0", "gauge");
  e.sample("berth_libvirt_up", {}, core.hv.state === "up" ? 1 : 0);
  renderReconcile(e, core);
  renderStateMetrics(e, core, opts.perUser ?? true);
  liveMetrics(core).render(e);
  renderProcessMetrics(e, core.domainType());
  return e.text();
}
