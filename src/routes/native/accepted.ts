// How an action that started an operation answers: 202 + Location, or with ?wait=true its outcome.
import type { Core } from "../../core/context.ts";
import { operationOutcome } from "../../core/operation-outcome.ts";
import type { Operation } from "../../core/operations.ts";

interface SetLike {
  status?: number | string;
  headers: Record<string, string | number>;
}

/**
 * Without wait: 202 with the operation. With wait: 200 with the finished operation, its error as
 * the response when it failed, or 202 if it is still running when the wait ends.
 */
export async function accepted(core: Core, op: Operation, set: SetLike, wait = false): Promise<Operation> {
  set.headers.location = `/v1/operations/${op.id}`;
  if (!wait) {
    set.status = 202;
    return op;
  }
  const done = await operationOutcome(core.ops, op);
  set.status = done.status === "running" ? 202 : 200;
  return done;
}
