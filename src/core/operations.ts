// Operations: long actions run in the background with progress, a per-target lock, and bounded waits.
import type { Database } from "bun:sqlite";
import { groupCommitOf } from "../db/group-commit.ts";
import {
  failInterrupted,
  finishOperation,
  getOperation,
  insertOperation,
  listOperations,
  type OperationRow,
  updateProgress,
} from "../db/operations.ts";
import { AppError, asInsufficientStorage, NotFound } from "../errors.ts";
import { log } from "../log.ts";
import type { EventBus } from "./events.ts";
import type { Locks } from "./locks.ts";
import { newId } from "./names.ts";
import { now } from "./time.ts";

export interface Operation {
  id: string;
  kind: string;
  target: string;
  status: OperationRow["status"];
  progress: number;
  message: string;
  error: { code: string; message: string; status: number } | null;
  result: unknown;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** The user who started it; null for berth's own work and with auth off. */
  owner: string | null;
}

export interface OpContext {
  id: string;
  /** Aborted when the operation is cancelled; long steps check it. */
  signal: AbortSignal;
  progress(fraction: number, message?: string): void;
}

/** Longest a client may block on /wait or ?wait=true. */
export const MAX_WAIT_SECONDS = 300;

function present(row: OperationRow): Operation {
  return {
    ...row,
    error: row.error ? (JSON.parse(row.error) as Operation["error"]) : null,
    result: row.result ? JSON.parse(row.result) : null,
  };
}

/** How many outcomes the database could not take are kept in memory. */
const UNRECORDED_KEPT = 1000;

/** An operation recorded but not yet running (see Operations.prepare). */
export interface PreparedOperation {
  op: Operation;
  launch(): void;
  abandon(): void;
}

/** What this thread hears of an operation another thread runs (see Operations.adopt). */
export interface AdoptedOperation {
  progress(fraction: number, message: string): void;
  /** It ended (its outcome is in the database): waiters read it. */
  ended(): void;
}

export interface OperationOptions {
  lock?: boolean;
  owner?: string | null;
  /** The id to record it under (one this thread chose and locked for another thread's operation); a new one if absent. */
  id?: string;
}

export class Operations {
  #waiters = new Map<string, Set<() => void>>();
  #aborts = new Map<string, AbortController>();
  /** Outcomes the database could not take (disk full): this process still answers them; a restart marks them interrupted. */
  #unrecorded = new Map<
    string,
    Pick<OperationRow, "status" | "error" | "result" | "updated_at" | "finished_at"> &
      Partial<Pick<OperationRow, "progress" | "message">>
  >();

  /** Running operations' latest progress: its write shares a later commit, and reads see it at once. */
  #progress = new Map<string, Pick<OperationRow, "progress" | "message" | "updated_at">>();

  /** Operations another thread runs (a pool's creates): how to ask it to cancel one. */
  #adopted = new Map<string, () => void>();

  constructor(
    private readonly db: Database,
    private readonly events: EventBus,
    private readonly locks: Locks,
  ) {}

  /** The ids of the operations this instance runs now. */
  running(): string[] {
    return [...this.#aborts.keys()];
  }

  /** Marks operations a previous run left behind as failed; returns how many. */
  recoverInterrupted(): number {
    return failInterrupted(this.db, now());
  }

  /**
   * Starts `fn` in the background as an operation on `target`. With `lock`, the target is held for
   * the operation's whole life and a second action on it is refused with 409 before anything starts.
   */
  start(
    kind: string,
    target: string,
    fn: (ctx: OpContext) => Promise<unknown>,
    opts: OperationOptions = {},
  ): Operation {
    const prepared = this.prepare(kind, target, fn, opts);
    prepared.launch();
    return prepared.op;
  }

  /**
   * Records the operation (and takes its lock) without running it: for a caller that records it inside a
   * transaction of its own, which must commit before `launch()` sets `fn` going. If that transaction
   * fails, `abandon()` lets the lock go; the operation's row went with the transaction.
   */
  prepare(
    kind: string,
    target: string,
    fn: (ctx: OpContext) => Promise<unknown>,
    opts: OperationOptions = {},
  ): PreparedOperation {
    const id = opts.id ?? newId();
    if (opts.lock) this.locks.acquire(target, id, kind);
    const at = now();
    try {
      insertOperation(this.db, { id, kind, target, created_at: at, owner: opts.owner ?? null });
    } catch (e) {
      if (opts.lock) this.locks.release(target, id);
      throw e;
    }
    const op = this.get(id);
    let settled = false;
    return {
      op,
      launch: () => {
        if (settled) return;
        settled = true;
        const abort = new AbortController();
        this.#aborts.set(id, abort);
        this.events.publish("operation.started", `operation/${id}`, { kind, target });
        const ctx: OpContext = {
          id,
          signal: abort.signal,
          progress: (fraction, message = "") => {
            if (!this.#aborts.has(id)) return; // the operation has ended
            const p = Math.max(0, Math.min(1, fraction));
            // Shares a background commit with berth's other writes of this turn (a refill's creates step
            // together; requests' writes go first). Only a
            // running operation's row takes it, so one that lands after the end changes nothing; a lost
            // one (a full disk) loses a step the end will overwrite.
            const at = now();
            this.#progress.set(id, { progress: p, message, updated_at: at });
            groupCommitOf(this.db)
              .run(() => updateProgress(this.db, id, p, message, at), { background: true })
              .catch((e) => log.debug("operation progress not recorded", { id, error: String(e) }));
            this.events.publish("operation.progress", `operation/${id}`, {
              kind,
              target,
              progress: p,
              message,
            });
          },
        };
        // Runs after the caller has the operation in hand (and after the 202 is on its way).
        queueMicrotask(() => void this.#run(id, kind, target, fn, ctx, abort, opts.lock ?? false));
      },
      abandon: () => {
        if (settled) return;
        settled = true;
        if (opts.lock) this.locks.release(target, id);
      },
    };
  }

  async #run(
    id: string,
    kind: string,
    target: string,
    fn: (ctx: OpContext) => Promise<unknown>,
    ctx: OpContext,
    abort: AbortController,
    locked: boolean,
  ): Promise<void> {
    try {
      abort.signal.throwIfAborted(); // cancelled before it began
      const result = await fn(ctx);
      this.#finish(id, "succeeded", { result: result === undefined ? null : JSON.stringify(result) });
      this.events.publish("operation.succeeded", `operation/${id}`, { kind, target });
    } catch (thrown) {
      const cancelled = abort.signal.aborted;
      const e = asInsufficientStorage(thrown, `${kind} ${target}`) ?? thrown;
      const error =
        e instanceof AppError
          ? { code: e.errorCode, message: e.message, status: e.httpStatus }
          : cancelled
            ? { code: "cancelled", message: `operation ${id} was cancelled`, status: 409 }
            : { code: "internal", message: e instanceof Error ? e.message : String(e), status: 500 };
      if (!(e instanceof AppError) && !cancelled)
        log.error("operation failed", { id, kind, target, error: String(e) });
      this.#finish(id, cancelled ? "cancelled" : "failed", { error: JSON.stringify(error) });
      this.events.publish(cancelled ? "operation.cancelled" : "operation.failed", `operation/${id}`, {
        kind,
        target,
        error,
      });
    } finally {
      if (locked) this.locks.release(target, id);
      this.#aborts.delete(id);
      this.#progress.delete(id);
      this.#wake(id);
    }
  }

  #wake(id: string): void {
    for (const wake of this.#waiters.get(id) ?? []) wake();
    this.#waiters.delete(id);
  }

  /**
   * Answers for operation `id` that another thread runs on this database (its row, progress and end are
   * that thread's writes): reads show the progress it reports, waits end when it reports the end, and a
   * cancel is passed on to it through `cancel`.
   */
  adopt(id: string, cancel: () => void): AdoptedOperation {
    this.#adopted.set(id, cancel);
    return {
      progress: (fraction, message) => {
        if (this.#adopted.has(id)) this.#progress.set(id, { progress: fraction, message, updated_at: now() });
      },
      ended: () => {
        this.#adopted.delete(id);
        this.#progress.delete(id);
        this.#wake(id);
      },
    };
  }

  /**
   * Records the outcome at once (callers that awaited the work go on, and the lock goes, right after it); a
   * database that cannot take it (disk full) is logged, and the next start marks it interrupted.
   */
  #finish(
    id: string,
    status: "succeeded" | "failed" | "cancelled",
    outcome: { result?: string | null; error?: string },
  ): void {
    const at = now();
    // The last progress step goes with it: its own write lands after this one, on a row no longer running.
    const step = this.#progress.get(id);
    try {
      finishOperation(this.db, id, status, { ...outcome, step }, at);
    } catch (e) {
      log.error("cannot record the end of an operation", { id, status, error: String(e) });
      const end = { ...step, status, error: outcome.error ?? null, result: outcome.result ?? null };
      this.#unrecorded.set(id, { ...end, updated_at: at, finished_at: at });
      // Bounded: the oldest go first (their callers have had their answer long since).
      if (this.#unrecorded.size > UNRECORDED_KEPT)
        this.#unrecorded.delete(this.#unrecorded.keys().next().value as string);
    }
  }

  get(id: string): Operation {
    const row = getOperation(this.db, id);
    if (!row) throw new NotFound(`operation ${id} does not exist`);
    return present(this.#current(row));
  }

  /** A row as this process knows it now: a running one's latest progress, an outcome not recorded. */
  #current(row: OperationRow): OperationRow {
    if (row.status !== "running") return row;
    const step = this.#progress.get(row.id);
    const end = this.#unrecorded.get(row.id);
    return step || end ? { ...row, ...step, ...end } : row;
  }

  list(
    filter: {
      target?: string;
      status?: string;
      owner?: string;
      projects?: readonly string[];
      limit?: number;
    } = {},
  ): Operation[] {
    return listOperations(this.db, { ...filter, limit: filter.limit ?? 100 }).map((row) =>
      present(this.#current(row)),
    );
  }

  /** Resolves when the operation ends or after `timeoutSeconds` (capped), with its latest state. */
  async wait(id: string, timeoutSeconds: number): Promise<Operation> {
    const op = this.get(id);
    if (op.status !== "running") return op;
    const seconds = Number.isFinite(timeoutSeconds) ? timeoutSeconds : 0;
    const ms = Math.min(Math.max(seconds, 0), MAX_WAIT_SECONDS) * 1000;
    await new Promise<void>((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
      this.#waiters.set(id, waiters);
    });
    return this.get(id);
  }

  /** Asks a running operation to stop; its steps undo themselves. Idempotent for finished ones. */
  cancel(id: string): Operation {
    const op = this.get(id);
    this.#aborts.get(id)?.abort(new AppError(409, "cancelled", `operation ${id} was cancelled`));
    this.#adopted.get(id)?.();
    return op;
  }
}
