// Reverter: undo newest first, a failing undo does not stop the others, run() reverts and rethrows.
import { expect, test } from "bun:test";
import { Reverter } from "../../../src/core/reverter.ts";

test("revert undoes completed steps newest first, awaiting each", async () => {
  const r = new Reverter();
  const order: string[] = [];
  r.add("volume", async () => {
    await Bun.sleep(5);
    order.push("volume");
  });
  r.add("define", async () => {
    await Bun.sleep(15); // slower, yet it must finish before the older step's undo starts
    order.push("define");
  });
  r.add("start", () => order.push("start"));
  expect(await r.revert()).toEqual([]);
  expect(order).toEqual(["start", "define", "volume"]);
});

test("a failing undo is reported by name and the remaining undos still run", async () => {
  const r = new Reverter();
  const order: string[] = [];
  r.add("a", () => order.push("a"));
  r.add("b", () => {
    throw new Error("b cannot be undone");
  });
  r.add("c", async () => {
    throw new Error("c cannot be undone either");
  });
  r.add("d", () => order.push("d"));
  expect(await r.revert()).toEqual(["c", "b"]);
  expect(order).toEqual(["d", "a"]);
});

test("revert runs each undo once: a second revert does nothing", async () => {
  const r = new Reverter();
  let n = 0;
  r.add("x", () => n++);
  await r.revert();
  await r.revert();
  expect(n).toBe(1);
});

test("run() keeps every step on success", async () => {
  const r = new Reverter();
  let undone = false;
  const v = await r.run(async (rv) => {
    rv.add("x", () => {
      undone = true;
    });
    return 42;
  });
  expect(v).toBe(42);
  await r.revert(); // nothing left to undo after success
  expect(undone).toBe(false);
});

test("run() undoes the completed steps when a later one fails, and rethrows that failure", async () => {
  const r = new Reverter();
  const undone: string[] = [];
  const boom = new Error("step 3 failed");
  const p = r.run(async (rv) => {
    rv.add("step 1", () => undone.push("step 1"));
    rv.add("step 2", () => {
      throw new Error("undo of step 2 failed");
    });
    throw boom;
  });
  await expect(p).rejects.toBe(boom);
  expect(undone).toEqual(["step 1"]);
});

test("later undos see which earlier ones failed, so they can keep the record of what is left", async () => {
  const r = new Reverter();
  const seen: string[][] = [];
  r.add("forget row", () => seen.push([...r.failures]));
  r.add("delete volume", () => {
    throw new Error("hypervisor unavailable");
  });
  r.add("remove domain", () => seen.push([...r.failures]));
  expect(await r.revert()).toEqual(["delete volume"]);
  expect(seen).toEqual([[], ["delete volume"]]);
});
