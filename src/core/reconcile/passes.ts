// What this process's reconcile passes did: passes by outcome and the last one's end and length, read by /metrics.

export type PassOutcome = "ok" | "errors";

export interface PassRecord {
  ok: number;
  errors: number;
  /** Epoch ms when the last pass ended; null before the first. */
  lastEndedAt: number | null;
  lastMs: number | null;
}

/** Per core, so test cores in one process do not share counts. */
const records = new WeakMap<object, PassRecord>();

function of(core: object): PassRecord {
  let r = records.get(core);
  if (!r) {
    r = { ok: 0, errors: 0, lastEndedAt: null, lastMs: null };
    records.set(core, r);
  }
  return r;
}

export function recordPass(core: object, outcome: PassOutcome, endedAt: number, ms: number): void {
  const r = of(core);
  r[outcome]++;
  r.lastEndedAt = endedAt;
  r.lastMs = ms;
}

export function reconcilePasses(core: object): Readonly<PassRecord> {
  return { ...of(core) };
}
