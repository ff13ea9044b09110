// The summary over a range of days: daily and overall clone/boot durations and tag counts (vmpooler's /summary).
import { bootSpans, cloneSpans, type Span, tagCounts } from "../../db/history.ts";
import { BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { durationStats } from "./durations.ts";

const DAY_MS = 86_400_000;
/** Longest range one summary covers, in days. */
export const MAX_SUMMARY_DAYS = 366;

export interface DayDurations {
  duration: { average: number; min: number; max: number; total: number };
  count: { total: number };
}

export interface RangeDurations {
  duration: { average: number; min: number; max: number; total: number };
  /** Statistics over the daily counts. */
  count: { average: number; min: number; max: number; total: number };
}

/** tag key → value → count, each key with a `total`. */
export type TagTable = Record<string, Record<string, number>>;

export interface Summary {
  boot: RangeDurations;
  clone: RangeDurations;
  tag: TagTable;
  daily: { date: string; boot: DayDurations; clone: DayDurations; tag: TagTable }[];
}

/** A YYYY-MM-DD date as ms at UTC midnight; 400 for anything else or an impossible date. */
function parseDay(label: string, s: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s) {
    throw new BadRequest(`${label} must be a date YYYY-MM-DD (got ${JSON.stringify(s)})`);
  }
  return ms;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function dayDurations(seconds: number[]): DayDurations {
  const { count, ...duration } = durationStats(seconds);
  return { duration, count: { total: count } };
}

/** Spans grouped by day, so a long range costs one pass over its spans. */
function byDay(spans: Span[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of spans) {
    const list = out.get(s.day);
    if (list) list.push(s.seconds);
    else out.set(s.day, [s.seconds]);
  }
  return out;
}

function rangeDurations(spans: Span[], days: string[], perDayOf: Map<string, number[]>): RangeDurations {
  const { count: _n, ...duration } = durationStats(spans.map((s) => s.seconds));
  const perDay = days.map((d) => perDayOf.get(d)?.length ?? 0);
  const { count: _d, ...count } = durationStats(perDay);
  return { duration, count };
}

function addTag(t: TagTable, key: string, value: string, n: number): void {
  const k = t[key] ?? { total: 0 };
  // "total" is the key's sum: a tag value literally named total is counted under the sum only.
  if (value !== "total") k[value] = (k[value] ?? 0) + n;
  k.total = (k.total ?? 0) + n;
  t[key] = k;
}

/**
 * `from` and `to` (YYYY-MM-DD, inclusive, UTC) default to today; at most `maxDays` days
 * (MAX_SUMMARY_DAYS unless a front that promised its clients more passes Infinity).
 */
export function summary(
  core: Core,
  range: { from?: string; to?: string },
  now: number = Date.now(),
  maxDays: number = MAX_SUMMARY_DAYS,
): Summary {
  const today = dayOf(now);
  const from = parseDay("from", range.from ?? today);
  const to = parseDay("to", range.to ?? today);
  if (to < from) throw new BadRequest(`to (${dayOf(to)}) is before from (${dayOf(from)})`);
  const n = (to - from) / DAY_MS + 1;
  if (n > maxDays) throw new BadRequest(`a summary covers at most ${maxDays} days (asked ${n})`);
  const days = Array.from({ length: n }, (_, i) => dayOf(from + i * DAY_MS));
  const start = new Date(from).toISOString();
  const end = new Date(to + DAY_MS).toISOString();
  const boot = bootSpans(core.db, start, end);
  const clone = cloneSpans(core.db, start, end);
  const tags = tagCounts(core.db, days[0] ?? today, days[days.length - 1] ?? today);
  const tag: TagTable = {};
  const dailyTags = new Map<string, TagTable>();
  for (const c of tags) {
    addTag(tag, c.key, c.value, c.n);
    const t = dailyTags.get(c.day) ?? {};
    addTag(t, c.key, c.value, c.n);
    dailyTags.set(c.day, t);
  }
  const bootDays = byDay(boot);
  const cloneDays = byDay(clone);
  return {
    boot: rangeDurations(boot, days, bootDays),
    clone: rangeDurations(clone, days, cloneDays),
    tag,
    daily: days.map((date) => ({
      date,
      boot: dayDurations(bootDays.get(date) ?? []),
      clone: dayDurations(cloneDays.get(date) ?? []),
      tag: dailyTags.get(date) ?? {},
    })),
  };
}
