// Pool readiness on test:///default: the domain's state comes from the state map while it is loaded (no call
// to libvirt per pending VM), and from libvirt while it is not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isReady } from "../../../src/core/pools/readiness.ts";
import { loadedStates, vmStates } from "../../../src/core/vms/state-map.ts";
import { testCore } from "../../support/core.ts";
import { recordCalls } from "../../support/hv-calls.ts";

const DOM = `rdy${process.pid}`;
const XML = `<domain type='test'><name>${DOM}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;
const RUNNING = { kind: "running" } as const;

describe("pool readiness", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  let calls: string[] = [];

  beforeAll(async () => {
    core = await testCore();
    calls = recordCalls(core.hv);
    await core.hv.call("domain.define", { xml: XML });
    await core.hv.call("domain.create", { name: DOM });
  });

  afterAll(async () => {
    await core.hv.call("domain.destroy", { name: DOM }).catch(() => {});
    await core.hv.call("domain.undefine", { name: DOM, flags: 0 });
    await core.close();
  });

  test("with the state map loaded, a running domain is ready and a paused one is not, with no call to libvirt", async () => {
    expect(await loadedStates(core.hv)).not.toBeNull();
    calls.length = 0;
    expect(await isReady(core, DOM, RUNNING)).toBe(true);
    expect(calls).toEqual([]);
    await core.hv.call("domain.suspend", { name: DOM });
    calls.length = 0;
    expect(await isReady(core, DOM, RUNNING)).toBe(false);
    // A domain the map does not know (its defining event not heard yet) is not ready, and not asked for.
    expect(await isReady(core, `${DOM}-unknown`, RUNNING)).toBe(false);
    expect(calls).toEqual([]);
    await core.hv.call("domain.resume", { name: DOM });
  });

  test("while the map is not loaded (states unknown), libvirt is asked", async () => {
    vmStates(core.hv).forget();
    calls.length = 0;
    expect(await isReady(core, DOM, RUNNING)).toBe(true);
    expect(calls).toContain("domain.info");
  });
});
