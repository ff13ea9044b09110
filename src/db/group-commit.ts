// Group commit: synchronous units of work submitted in the same tick share one SQLite transaction and one commit.
import type { Database } from "bun:sqlite";
import { AppError, asDatabaseBusy, asInsufficientStorage, DatabaseError, isDatabaseBusy } from "../errors.ts";

/**
 * The contract:
 * - `run(work)` queues `work`; the queue is applied on the next turn of the event loop (setImmediate),
 *   at most `maxBatch` units per transaction, in the order they were submitted. A transaction also ends
 *   once its units took `maxBatchMs` of this thread: the rest wait for the next turn, so a burst (a
 *   refill's creates) never holds the event loop for long.
 * - Two lanes: `run(work, { background: true })` is berth's own work (a pool's refill, operation progress),
 *   every other unit is a request's. A transaction holds units of one lane; while both have units waiting
 *   they take turns, and a background transaction ends after `backgroundMs`. A request waits behind at most
 *   one short background transaction, never behind a whole refill, and a stream of requests never starves
 *   the refill. Each lane keeps its order; units of different lanes may commit in either order.
 * - One `BEGIN IMMEDIATE … COMMIT` holds the batch; each unit runs in its own SAVEPOINT. A unit that
 *   throws is rolled back to its savepoint (all or nothing for that unit) and the others go on.
 * - Nothing is settled before the transaction holding it ended: a unit's promise resolves with what
 *   `work` returned only after the COMMIT succeeded, and rejects with what it threw only then too. If
 *   the BEGIN or the COMMIT fails, or SQLite rolls the whole transaction back, units that had
 *   succeeded reject (nothing of theirs was committed).
 * - `work` must be synchronous (no await inside a transaction: no other code may interleave with it).
 * - A BEGIN refused because another connection holds SQLite's write lock (the pool members' Worker, the WAL
 *   checkpointer's TRUNCATE) does not wait on this thread: the batch goes back to its lane and is tried
 *   again BUSY_RETRY_MS later, for up to `busyWaitMs`; past that its units reject with a 503 `database_busy`.
 */
export class GroupCommit {
  readonly #db: Database;
  readonly #maxBatch: number;
  readonly #maxBatchMs: number;
  readonly #backgroundMs: number;
  #requests: Unit[] = [];
  #background: Unit[] = [];
  /** The background lane goes next when both have units waiting (set after a request transaction). */
  #backgroundTurn = false;
  #scheduled = false;
  #closing = false;
  #closed = false;
  readonly #busyWaitMs: number;
  /** When BEGIN was first refused as busy, since the last BEGIN that succeeded (null: not busy). */
  #busySince: number | null = null;
  /** The connection's own busy_timeout, put back after each BEGIN (which is tried without one). */
  #busyTimeout: number | null = null;
  /** Transactions committed so far (tests and benchmarks read it). */
  commits = 0;

  constructor(
    db: Database,
    opts: { maxBatch?: number; maxBatchMs?: number; backgroundMs?: number; busyWaitMs?: number } = {},
  ) {
    this.#db = db;
    this.#busyWaitMs = opts.busyWaitMs ?? 30_000;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.#maxBatchMs = opts.maxBatchMs ?? 2;
    this.#backgroundMs = opts.backgroundMs ?? 1;
  }

  run<T>(work: () => T, opts: { background?: boolean } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new DatabaseError("the database is closing"));
    return new Promise<T>((resolve, reject) => {
      const lane = opts.background ? this.#background : this.#requests;
      lane.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Applies every queued unit now, then refuses new ones (before the database is closed). */
  close(): void {
    // Closing may wait on this thread: each BEGIN waits for the write lock with the connection's busy_timeout.
    this.#closing = true;
    while (this.#waiting()) this.#flush();
    this.#closed = true;
  }

  #waiting(): boolean {
    return this.#requests.length > 0 || this.#background.length > 0;
  }

  #schedule(delayMs = 0): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      this.#flush();
      if (this.#waiting()) this.#schedule(this.#busySince === null ? 0 : BUSY_RETRY_MS);
    };
    if (delayMs > 0) setTimeout(go, delayMs);
    else setImmediate(go);
  }

  #flush(): void {
    const background = this.#background.length > 0 && (this.#requests.length === 0 || this.#backgroundTurn);
    this.#backgroundTurn = !background;
    const lane = background ? this.#background : this.#requests;
    const batch = lane.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.#apply(batch, outcomes, lane, background ? this.#backgroundMs : this.#maxBatchMs);
    } catch (e) {
      // Not expected (every step above handles its own failure); if it happens, nothing of the batch is kept.
      if (this.#db.inTransaction) runOrError(this.#db, "ROLLBACK");
      lost(outcomes, e);
      const settled = new Set(outcomes.map((o) => o.unit));
      const queued = new Set(lane);
      for (const u of batch)
        if (!settled.has(u) && !queued.has(u)) outcomes.push({ unit: u, ok: false, error: e });
    }
    for (const o of outcomes) {
      if (o.ok) o.unit.resolve(o.value);
      else o.unit.reject(o.error);
    }
  }

  /** BEGIN IMMEDIATE without waiting for the write lock (the caller retries later): the error, or null. */
  #begin(): unknown {
    const db = this.#db;
    try {
      this.#busyTimeout ??= (db.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout;
      if (this.#busyTimeout === 0 || this.#closing) return runOrError(db, "BEGIN IMMEDIATE");
      db.query("PRAGMA busy_timeout = 0").run();
      try {
        return runOrError(db, "BEGIN IMMEDIATE");
      } finally {
        db.query(`PRAGMA busy_timeout = ${this.#busyTimeout}`).run();
      }
    } catch (e) {
      return e; // a closed database, as for BEGIN itself
    }
  }

  /** Applies `batch` in one transaction of at most `budgetMs`; the units it had no time for go back to the head of `lane`. */
  #apply(batch: Unit[], outcomes: Outcome[], lane: Unit[], budgetMs: number): void {
    const db = this.#db;
    const begun = this.#begin();
    if (begun !== null) {
      const busy = isDatabaseBusy(begun);
      const at = performance.now();
      if (busy) this.#busySince ??= at;
      if (busy && at - (this.#busySince ?? at) < this.#busyWaitMs) {
        lane.unshift(...batch); // tried again in BUSY_RETRY_MS
        return;
      }
      const error = asDatabaseBusy(begun, "the transaction could not begin") ?? begun;
      for (const unit of batch) outcomes.push({ unit, ok: false, error });
      return;
    }
    this.#busySince = null;
    const started = performance.now();
    for (const unit of batch) {
      // SQLite ended the transaction (see applyUnit), or this one had its share of the thread: the rest
      // waits for the next one.
      const spent = outcomes.length > 0 && performance.now() - started >= budgetMs;
      if (!db.inTransaction || spent) {
        lane.unshift(...batch.slice(outcomes.length));
        break;
      }
      const outcome = applyUnit(db, unit);
      outcomes.push(outcome);
      if (!db.inTransaction && !outcome.ok) lost(outcomes, outcome.error);
    }
    if (!db.inTransaction) return;
    const failed = runOrError(db, "COMMIT");
    if (failed === null) {
      this.commits++;
      return;
    }
    if (db.inTransaction) runOrError(db, "ROLLBACK");
    lost(outcomes, failed);
  }
}

/** How long a batch refused as busy waits before it is tried again. */
const BUSY_RETRY_MS = 1;

interface Unit {
  work: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { unit: Unit; ok: true; value: unknown } | { unit: Unit; ok: false; error: unknown };

/** Runs one statement (prepared once per connection: these run several times per batch); the error it threw, or null. */
function runOrError(db: Database, sql: string): unknown {
  try {
    db.query(sql).run();
    return null;
  } catch (e) {
    return e;
  }
}

function applyUnit(db: Database, unit: Unit): Outcome {
  const opened = runOrError(db, "SAVEPOINT group_unit");
  if (opened !== null) return { unit, ok: false, error: opened };
  try {
    const value = unit.work();
    if (value instanceof Promise) throw new TypeError("group commit work must be synchronous");
    db.query("RELEASE group_unit").run();
    return { unit, ok: true, value };
  } catch (error) {
    // Some errors (SQLITE_FULL, I/O) end the whole transaction: then there is no savepoint to go back to.
    if (db.inTransaction) {
      const undone = runOrError(db, "ROLLBACK TO group_unit") ?? runOrError(db, "RELEASE group_unit");
      // The savepoint could not be undone: the whole transaction goes, and applyUnit's caller sees it gone.
      if (undone !== null && db.inTransaction) runOrError(db, "ROLLBACK");
    }
    return { unit, ok: false, error };
  }
}

/** The transaction is gone: units that had succeeded in it were not committed. */
function lost(outcomes: Outcome[], cause: unknown): void {
  const why = cause instanceof Error && cause.message ? ` (${cause.message})` : "";
  const what = `the transaction holding this change was rolled back${why}; nothing was changed`;
  const error =
    cause instanceof AppError
      ? cause
      : (asInsufficientStorage(cause, what) ??
        asDatabaseBusy(cause, what) ??
        new DatabaseError(what, { cause }));
  outcomes.forEach((o, i) => {
    if (o.ok) outcomes[i] = { unit: o.unit, ok: false, error };
  });
}

const instances = new WeakMap<Database, GroupCommit>();

/** The one group commit of a connection (every batch on it must share its transaction). */
export function groupCommitOf(db: Database): GroupCommit {
  let g = instances.get(db);
  if (!g) {
    g = new GroupCommit(db);
    instances.set(db, g);
  }
  return g;
}
