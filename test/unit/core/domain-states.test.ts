// domain.states: every domain's state from a few listings by state, the same as asking each domain.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hypervisor } from "../../../src/core/hypervisor/client.ts";
import { buildDomainXml } from "../../../src/xml/domain.ts";
import { WORKERS } from "../../support/workers.ts";

const hv = new Hypervisor({
  uri: "test:///default",
  workerUrl: WORKERS.hypervisor,
  workers: 1,
  callTimeoutMs: 5000,
  longCallTimeoutMs: 5000,
  reconnectMaxMs: 200,
});
const NAMES = ["uds-run", "uds-pause", "uds-off"];

beforeAll(async () => {
  await hv.start();
  for (const name of NAMES) {
    await hv.call("domain.define", {
      xml: buildDomainXml({
        name,
        type: "qemu",
        vcpus: 1,
        memoryMiB: 64,
        boot: { kind: "disk" },
        disks: [],
        nics: [],
      }),
    });
  }
  await hv.call("domain.create", { name: "uds-run" });
  await hv.call("domain.create", { name: "uds-pause" });
  await hv.call("domain.suspend", { name: "uds-pause" });
});
afterAll(async () => {
  for (const name of NAMES) {
    await hv.call("domain.destroy", { name }).catch(() => null);
    await hv.call("domain.undefine", { name });
  }
  await hv.close();
});

test("running, paused and shut-off domains: the same states domain.list reads one by one", async () => {
  const states = new Map((await hv.call("domain.states", {})).map((d) => [d.name, d.state]));
  expect([...NAMES].map((n) => states.get(n))).toEqual(["running", "paused", "shutoff"]);
  const oneByOne = await hv.call("domain.list", {});
  expect(new Map(oneByOne.map((d) => [d.name, d.state]))).toEqual(states);
});
