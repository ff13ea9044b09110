// vmpooler's /status (with ?view=), its dashboard's stats and /summary[/<boot|clone|tag>[/<key>]], over core's status.
import { lastBoots } from "../../db/history.ts";
import { listPoolRows } from "../../db/pools.ts";
import { BadRequest, NotFound } from "../../errors.ts";
import type { Core } from "../context.ts";
import { toPoolRecord } from "../pools/records.ts";
import { type DurationStats, poolStatus, summary } from "../status/index.ts";
import { vmpoolerTime } from "./vmpooler.ts";

/** vmpooler's "all is well" message, which its clients and dashboards show. */
const ALL_WELL = "Battle station fully armed and operational.";

function task(d: DurationStats) {
  return {
    duration: { average: d.average, min: d.min, max: d.max, total: d.total },
    count: { total: d.count },
  };
}

/**
 * GET /status: `status` always; capacity, queue, clone, boot and pools unless `view` (a comma list)
 * leaves them out. Empty pools are found in the pools pass, so a view without pools reports none, as v1.rb.
 */
export function vmpoolerStatus(core: Core, view?: string, at = Date.now()) {
  const views = view === undefined ? null : view.split(",");
  const wants = (k: string) => views === null || views.includes(k);
  const s = poolStatus(core, at);
  const result: Record<string, unknown> = {};
  const status: Record<string, unknown> = { ok: true, message: ALL_WELL };
  if (wants("capacity")) result.capacity = s.capacity;
  if (wants("queue")) {
    const { pending, cloning, booting, ready, running } = s.queue;
    const completed = s.pools.reduce((a, p) => a + p.draining, 0);
    result.queue = { pending, cloning, booting, ready, running, completed, total: s.queue.total + completed };
  }
  if (wants("clone")) result.clone = task(s.clone);
  if (wants("boot")) result.boot = task(s.boot);
  if (wants("pools")) {
    const aliases = new Map(listPoolRows(core.db).map((r) => [r.name, toPoolRecord(r).spec.alias]));
    const boots = lastBoots(core.db);
    result.pools = Object.fromEntries(
      s.pools.map((p) => {
        const alias = aliases.get(p.name) ?? [];
        const lastBoot = vmpoolerTime(boots.get(p.name) ?? null);
        const entry = { ready: p.ready, running: p.running, pending: p.pending, max: p.size, lastBoot };
        return [p.name, alias.length > 0 ? { ...entry, alias } : entry];
      }),
    );
    if (s.empty.length > 0) {
      Object.assign(status, { ok: false, message: `Found ${s.empty.length} empty pools.`, empty: s.empty });
    }
  }
  status.uptime = Math.round(process.uptime() * 10) / 10;
  result.status = status;
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

/** GET /dashboard/stats/vmpooler/pool[?history]: each pool's size and ready count (history: now only, no graph server). */
export function vmpoolerDashboardPools(core: Core, history: boolean) {
  return Object.fromEntries(
    poolStatus(core).pools.map((p) => [
      p.name,
      { size: p.size, ready: p.ready, ...(history ? { history: [p.ready] } : {}) },
    ]),
  );
}

/** The dashboard's platform of a pool: the word before its first "-" (`debian` of `debian-7-x86_64`). */
const majorOf = (pool: string) => /^(\w+)-/.exec(pool)?.[1] ?? pool;

/** GET /dashboard/stats/vmpooler/running: checked-out VMs per platform. */
export function vmpoolerDashboardRunning(core: Core) {
  const out: Record<string, { running: number }> = {};
  for (const p of poolStatus(core).pools) {
    const m = majorOf(p.name);
    out[m] = { running: (out[m]?.running ?? 0) + p.running };
  }
  return out;
}

/** A query value as one string: the last of repeated ones, as Rack reads them. */
function one(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof x === "string" ? x : undefined;
}

/** vmpooler's checks on from/to: dates, to not before from, from not in the future (the range: [vmpooler] summary_max_days). */
function range(query: Record<string, unknown>, at: number) {
  const today = new Date(at).toISOString().slice(0, 10);
  const from = one(query.from) ?? today;
  const to = one(query.to) ?? today;
  for (const d of [from, to]) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d))
      throw new BadRequest(`Invalid date format '${d}', must match YYYY-MM-DD.`);
  }
  if (to < from) throw new BadRequest("Date range is invalid, 'to' cannot come before 'from'.");
  if (from > today) throw new BadRequest("Date range is invalid, 'from' must be in the past.");
  return { from, to };
}

/** GET /summary: boot, clone and tag totals and a day per date (other query keys ignored, as Sinatra did). */
export function vmpoolerSummary(core: Core, query: Record<string, unknown>, at = Date.now()) {
  const max = core.config.vmpooler.summary_max_days;
  return summary(core, range(query, at), at, max === 0 ? Number.POSITIVE_INFINITY : max);
}

const pick = <T extends object>(o: T, key: string | undefined) =>
  key === undefined ? o : Object.fromEntries(Object.entries(o).filter(([k]) => k === key));

/** GET /summary/<boot|clone|tag>[/<key>]: one part of the summary; key keeps one of its fields (a tag: one tag). */
export function vmpoolerSummaryPart(
  core: Core,
  part: string,
  key: string | undefined,
  query: Record<string, unknown>,
  at = Date.now(),
) {
  if (part !== "boot" && part !== "clone" && part !== "tag") {
    throw new NotFound(`no summary named ${part}: boot, clone or tag`);
  }
  const s = vmpoolerSummary(core, query, at);
  return {
    [part]: pick(s[part], key),
    daily: s.daily.map((d) => ({ date: d.date, [part]: pick(d[part], key) })),
  };
}
