// Locks: one holder per target, a Conflict naming the holder, release only by the holder.
import { expect, test } from "bun:test";
import { Locks } from "../../../src/core/locks.ts";
import { AppError, Conflict } from "../../../src/errors.ts";

function conflictOf(fn: () => void): Conflict {
  try {
    fn();
  } catch (e) {
    if (e instanceof Conflict) return e;
    throw e;
  }
  throw new Error("expected a Conflict");
}

test("a held target refuses a second holder with a 409 naming the running operation", () => {
  const locks = new Locks();
  locks.acquire("vm/web-1", "op-1", "vm.start");
  expect(locks.holder("vm/web-1")).toBe("op-1");
  const e = conflictOf(() => locks.acquire("vm/web-1", "op-2", "vm.stop"));
  expect(e).toBeInstanceOf(AppError);
  expect(e.httpStatus).toBe(409);
  expect(e.errorCode).toBe("conflict");
  expect(e.message).toBe("vm/web-1 is busy: operation op-1 (vm.start) is running");
  expect(e.details).toEqual({ operation: "op-1", kind: "vm.start" });
  expect(locks.holder("vm/web-1")).toBe("op-1");
});

test("targets are independent and matched exactly, never by prefix", () => {
  const locks = new Locks();
  locks.acquire("vm/web", "op-1", "k");
  locks.acquire("vm/web-1", "op-2", "k");
  locks.acquire("vm/we", "op-3", "k");
  expect([locks.holder("vm/web"), locks.holder("vm/web-1"), locks.holder("vm/we")]).toEqual([
    "op-1",
    "op-2",
    "op-3",
  ]);
  expect(locks.holder("vm/web-")).toBeUndefined();
});

test("only the holder releases; after release the target is free again", () => {
  const locks = new Locks();
  locks.acquire("image/debian", "op-1", "image.import");
  locks.release("image/debian", "op-other");
  expect(locks.holder("image/debian")).toBe("op-1");
  locks.release("image/debian", "op-1");
  expect(locks.holder("image/debian")).toBeUndefined();
  locks.acquire("image/debian", "op-2", "image.delete");
  expect(locks.holder("image/debian")).toBe("op-2");
});

test("ensureFree passes on a free target and throws the same Conflict on a held one, taking nothing", () => {
  const locks = new Locks();
  locks.ensureFree("vm/a");
  expect(locks.holder("vm/a")).toBeUndefined();
  locks.acquire("vm/a", "op-1", "vm.create");
  const e = conflictOf(() => locks.ensureFree("vm/a"));
  expect(e.message).toBe("vm/a is busy: operation op-1 (vm.create) is running");
  expect(e.details).toEqual({ operation: "op-1", kind: "vm.create" });
  expect(locks.holder("vm/a")).toBe("op-1");
});
