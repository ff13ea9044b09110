// Listing VMs: concurrent lists share one domain.states call to libvirt instead of queueing one each.

import { afterAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { listVmViews } from "../../../src/core/vms/index.ts";
import { testConfig, testCore } from "../../support/core.ts";

const core = await testCore(testConfig(""));
afterAll(() => core.close());

/** The same core, counting the libvirt calls made through it. */
function counting(c: Core): { core: Core; calls: string[] } {
  const calls: string[] = [];
  const hv = Object.create(c.hv) as Core["hv"];
  hv.call = ((op: string, args: unknown) => {
    calls.push(op);
    return (c.hv.call as (o: string, a: unknown) => Promise<unknown>)(op, args);
  }) as Core["hv"]["call"];
  return { core: { ...c, hv }, calls };
}

test("eight concurrent lists make one domain.states call; a later list makes its own", async () => {
  const { core: counted, calls } = counting(core);
  const lists = await Promise.all(Array.from({ length: 8 }, () => listVmViews(counted, SYSTEM)));
  expect(calls.filter((c) => c === "domain.states")).toHaveLength(1);
  for (const l of lists) expect(l).toEqual(lists[0] as (typeof lists)[0]);
  await listVmViews(counted, SYSTEM);
  expect(calls.filter((c) => c === "domain.states")).toHaveLength(2);
});
