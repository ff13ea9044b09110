// Waiting on an operation to answer synchronously: success, failure as its own AppError, a fallback, still running.

import type { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { EventBus } from "../../../src/core/events.ts";
import { Locks } from "../../../src/core/locks.ts";
import {
  operationFailure,
  operationFinished,
  operationOutcome,
  stillRunning,
} from "../../../src/core/operation-outcome.ts";
import { type Operation, Operations } from "../../../src/core/operations.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { AppError, Conflict } from "../../../src/errors.ts";

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function ops(): Operations {
  const db = openDatabase(":memory:");
  open.push(db);
  return new Operations(db, new EventBus(), new Locks());
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => new Error("expected a rejection"),
    (x: unknown) => x,
  );
  if (!(e instanceof AppError)) throw e;
  return e;
}

test("a succeeded operation is returned, finished", async () => {
  const o = ops();
  const op = o.start("thing.make", "thing/a", async () => ({ made: true }));
  const done = await operationFinished(o, op);
  expect(done.status).toBe("succeeded");
  expect(done.result).toEqual({ made: true });
  expect((await operationOutcome(o, op)).status).toBe("succeeded");
});

test("a failed operation throws its own error as an AppError naming the operation", async () => {
  const o = ops();
  const op = o.start("thing.make", "thing/b", async () => {
    throw new Conflict("thing b already exists");
  });
  for (const wait of [operationOutcome, operationFinished]) {
    const e = await rejection(wait(o, op));
    expect([e.httpStatus, e.errorCode, e.message]).toEqual([409, "conflict", "thing b already exists"]);
    expect(e.details).toEqual({ operation: op.id });
  }
});

test("a cancelled operation throws its cancellation", async () => {
  const o = ops();
  const op = o.start(
    "thing.make",
    "thing/c",
    (ctx) =>
      new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
  );
  o.cancel(op.id);
  const e = await rejection(operationFinished(o, op));
  expect([e.httpStatus, e.errorCode]).toEqual([409, "cancelled"]);
});

test("a failure without a recorded error falls back to a 500 saying how it ended", () => {
  const done = { id: "op1", kind: "thing.make", status: "failed", error: null } as unknown as Operation;
  const e = operationFailure(done);
  expect([e.httpStatus, e.errorCode, e.message]).toEqual([500, "internal", "thing.make failed"]);
  expect(e.details).toEqual({ operation: "op1" });
});

test("still running when the wait ends: the outcome returns it, a synchronous answer is a 504", async () => {
  const o = ops();
  const op = o.start("thing.make", "thing/d", () => new Promise(() => {}));
  // A wait that ends at once, as the bounded one does after MAX_WAIT_SECONDS.
  const impatient = { wait: (id: string) => o.wait(id, 0) };
  expect((await operationOutcome(impatient, op)).status).toBe("running");
  const e = await rejection(operationFinished(impatient, op));
  expect([e.httpStatus, e.errorCode]).toEqual([504, "operation_timeout"]);
  expect(e.message).toBe(stillRunning(op).message);
  o.cancel(op.id);
});
