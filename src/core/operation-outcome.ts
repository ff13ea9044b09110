// Waiting on an operation to answer synchronously: its end (bounded), and its failure as the caller's error.
import { AppError } from "../errors.ts";
import { MAX_WAIT_SECONDS, type Operation, type Operations } from "./operations.ts";

/** The error a failed or cancelled operation answers with: its recorded one, or a 500 naming how it ended. */
export function operationFailure(done: Operation): AppError {
  const err = done.error ?? { status: 500, code: "internal", message: `${done.kind} ${done.status}` };
  return new AppError(err.status, err.code, err.message, { details: { operation: done.id } });
}

/** The 504 of an operation still running when the wait ended; it goes on in the background. */
export function stillRunning(op: Operation): AppError {
  return new AppError(
    504,
    "operation_timeout",
    `${op.kind} is still running after ${MAX_WAIT_SECONDS} s; see /v1/operations/${op.id}`,
    { details: { operation: op.id } },
  );
}

/** `done` when it succeeded or is still running; throws its error when it failed or was cancelled. */
export function unlessFailed(done: Operation): Operation {
  if (done.status === "running" || done.status === "succeeded") return done;
  throw operationFailure(done);
}

/** Waits (at most MAX_WAIT_SECONDS) for `op`: succeeded or still running, or throws its failure. */
export async function operationOutcome(ops: Pick<Operations, "wait">, op: Operation): Promise<Operation> {
  return unlessFailed(await ops.wait(op.id, MAX_WAIT_SECONDS));
}

/** Waits for `op` to succeed, as a synchronous API answers: its failure, or a 504 if it is still running. */
export async function operationFinished(ops: Pick<Operations, "wait">, op: Operation): Promise<Operation> {
  const done = await operationOutcome(ops, op);
  if (done.status === "running") throw stillRunning(done);
  return done;
}
