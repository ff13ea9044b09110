// berth's storage pool: created on first use, and concurrent first users share one define/build/start.
import { afterAll, expect, test } from "bun:test";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { testConfig, testCore } from "../../support/core.ts";

const core = await testCore(testConfig('[storage]\npool = "sp-race"'));
afterAll(async () => {
  await core.hv.call("pool.destroy", { pool: "sp-race" }).then(
    () => core.hv.call("pool.undefine", { pool: "sp-race" }),
    (e) => e,
  );
  await core.close();
});

test("five concurrent first calls all succeed and leave one active, autostarted pool", async () => {
  const names = await Promise.all(Array.from({ length: 5 }, () => ensureStoragePool(core)));
  expect(names).toEqual(Array(5).fill("sp-race"));
  const pools = (await core.hv.call("pool.list", {})).filter((p) => p.name === "sp-race");
  expect(pools).toEqual([{ name: "sp-race", active: true }]);
  expect(await ensureStoragePool(core)).toBe("sp-race"); // and again, once it exists
});
