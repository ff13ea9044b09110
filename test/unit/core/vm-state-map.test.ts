// The VM state map: lifecycle events keep it current on test:///default, a reconnect refreshes it, an event during a refresh is kept.

import { afterAll, describe, expect, test } from "bun:test";
import { Hypervisor } from "../../../src/core/hypervisor/client.ts";
import { loadedStates, refreshStates, VmStateMap, vmStates } from "../../../src/core/vms/state-map.ts";
import { recordCalls } from "../../support/hv-calls.ts";
import { WORKERS } from "../../support/workers.ts";

const opts = {
  uri: "test:///default",
  workerUrl: WORKERS.hypervisor,
  workers: 1,
  callTimeoutMs: 5000,
  longCallTimeoutMs: 5000,
  reconnectMaxMs: 200,
};
const xml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;

const open: Hypervisor[] = [];
afterAll(async () => {
  for (const hv of open) await hv.close();
});

async function client(withPump: boolean): Promise<Hypervisor> {
  const hv = new Hypervisor(withPump ? { ...opts, pumpUrl: WORKERS.pump } : opts);
  open.push(hv);
  await hv.start();
  return hv;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("refreshStates", () => {
  test("an event after the mark wins over the read; untouched names take the read; the rest go", () => {
    const map = new VmStateMap();
    refreshStates(
      map,
      [
        { name: "a", state: "running" },
        { name: "b", state: "running" },
        { name: "c", state: "running" },
      ],
      map.mark(),
    );
    const since = map.mark();
    // While a read is in flight: a stops, b is undefined, d is started.
    map.applyEvent("a", "stopped");
    map.applyEvent("b", "undefined");
    map.applyEvent("d", "started");
    // The read, taken before those events, still sees the old states (and no d), and c shut off.
    refreshStates(
      map,
      [
        { name: "a", state: "running" },
        { name: "b", state: "running" },
        { name: "c", state: "shutoff" },
      ],
      since,
    );
    expect([map.get("a"), map.get("b"), map.get("c"), map.get("d")]).toEqual([
      "shutoff",
      undefined,
      "shutoff",
      "running",
    ]);
    // A later read without b does not bring it back, and one without d removes it.
    refreshStates(map, [{ name: "a", state: "shutoff" }], map.mark());
    expect([map.get("b"), map.get("d")]).toEqual([undefined, undefined]);
  });

  test("a read that changes nothing leaves the version; one that changes a state moves it", () => {
    const map = new VmStateMap();
    refreshStates(map, [{ name: "a", state: "running" }], map.mark());
    const v = map.version;
    refreshStates(map, [{ name: "a", state: "running" }], map.mark());
    expect(map.version).toBe(v);
    refreshStates(map, [{ name: "a", state: "shutoff" }], map.mark());
    expect(map.version).toBe(v + 1);
    refreshStates(map, [], map.mark());
    expect([map.version, map.get("a")]).toEqual([v + 2, undefined]);
  });

  test("defined names a new domain as shut off, never a known one; the version moves on changes only", () => {
    const map = new VmStateMap();
    map.applyEvent("x", "started");
    const v = map.version;
    map.applyEvent("x", "defined");
    map.applyEvent("x", "started");
    expect([map.get("x"), map.version]).toEqual(["running", v]);
    map.applyEvent("y", "defined");
    expect(map.get("y")).toBe("shutoff");
    expect(map.version).toBe(v + 1);
  });

  test("a call's answer never overwrites events that came after its own event", () => {
    const map = new VmStateMap();
    const sent = performance.now();
    Bun.sleepSync(1);
    // The guest crashed right after its start: the start's event and the crash's beat the start's answer here.
    map.applyEvent("g", "started");
    map.applyEvent("g", "crashed");
    map.applyCall("domain.create", { name: "g" }, null, sent);
    expect(map.get("g")).toBe("crashed");
    // A call sent after that event is newer than it.
    Bun.sleepSync(1);
    map.applyCall("domain.create", { name: "g" }, null, performance.now());
    expect(map.get("g")).toBe("running");
    map.applyCall("domain.define", { xml: "<domain/>" }, { name: "h", uuid: "u" }, performance.now());
    expect(map.get("h")).toBe("shutoff");
  });

  test("a restart's stop event, arriving after the start was answered, does not undo the start", () => {
    const map = new VmStateMap();
    map.applyEvent("r", "started");
    // berth restarts r: destroy, then create, both answered before libvirt's events for them arrive.
    map.applyCall("domain.destroy", { name: "r" }, null, performance.now());
    map.applyCall("domain.create", { name: "r" }, null, performance.now());
    expect(map.get("r")).toBe("running");
    map.applyEvent("r", "stopped");
    expect(map.get("r")).toBe("running");
    map.applyEvent("r", "started");
    expect(map.get("r")).toBe("running");
    // After the start's own event, a stop is news again.
    map.applyEvent("r", "stopped");
    expect(map.get("r")).toBe("shutoff");
  });

  test("the destroy's event arriving while the start is in flight does not hold back the start's answer", () => {
    const map = new VmStateMap();
    map.applyEvent("s", "started");
    map.applyCall("domain.destroy", { name: "s" }, null, performance.now());
    const sent = performance.now();
    Bun.sleepSync(1);
    map.applyEvent("s", "stopped");
    expect(map.get("s")).toBe("shutoff");
    map.applyCall("domain.create", { name: "s" }, null, sent);
    expect(map.get("s")).toBe("running");
    map.applyEvent("s", "started");
    expect(map.get("s")).toBe("running");
  });
});

describe("on test:///default", () => {
  test("lifecycle events drive it through define, start, suspend, resume, destroy and undefine, with no read", async () => {
    const hv = await client(true);
    // Another client makes the changes: this one learns of them by events alone.
    const other = await client(false);
    const dom = `vsm-ev-${process.pid}`;
    const map = (await loadedStates(hv)) as VmStateMap;
    expect(map.get("test")).toBe("running");
    // The pump's connection registers after "up": wait until its own read after that has landed.
    await Bun.sleep(300);
    const calls = recordCalls(hv);
    await other.call("domain.define", { xml: xml(dom) });
    await until(() => map.get(dom) === "shutoff", "defined");
    await other.call("domain.create", { name: dom });
    await until(() => map.get(dom) === "running", "started");
    await other.call("domain.suspend", { name: dom });
    await until(() => map.get(dom) === "paused", "suspended");
    await other.call("domain.resume", { name: dom });
    await until(() => map.get(dom) === "running", "resumed");
    await other.call("domain.destroy", { name: dom });
    await until(() => map.get(dom) === "shutoff", "stopped");
    await other.call("domain.undefine", { name: dom });
    await until(() => map.get(dom) === undefined, "undefined");
    expect(calls).toEqual([]);
  }, 20_000);

  test("a reconnect refreshes it: a change made while it heard no events shows after the hypervisor comes back", async () => {
    // No pump: this client hears no events, so only a full read can tell it anything.
    const hv = await client(false);
    const other = await client(false);
    const dom = `vsm-re-${process.pid}`;
    await other.call("domain.define", { xml: xml(dom) });
    try {
      const map = (await loadedStates(hv)) as VmStateMap;
      expect(map.get(dom)).toBe("shutoff");
      await other.call("domain.create", { name: dom });
      await Bun.sleep(100);
      expect(map.get(dom)).toBe("shutoff");
      // A call past its deadline takes the connection down; the client reconnects on its own.
      await hv.call("debug.block", { ms: 1000 }, { timeoutMs: 50 }).catch(() => null);
      expect(hv.state).not.toBe("up");
      expect(await loadedStates(hv)).toBeNull();
      await until(() => hv.state === "up", "the reconnect");
      await until(() => map.loaded && map.get(dom) === "running", "the refresh after the reconnect");
    } finally {
      await other.call("domain.destroy", { name: dom }).catch(() => null);
      await other.call("domain.undefine", { name: dom });
    }
  }, 20_000);

  test("berth's own calls show the moment they answer, before (here: without) any event", async () => {
    const hv = await client(false);
    const dom = `vsm-call-${process.pid}`;
    const map = (await loadedStates(hv)) as VmStateMap;
    const seen: (string | undefined)[] = [];
    await hv.call("domain.define", { xml: xml(dom) });
    seen.push(map.get(dom));
    await hv.call("domain.create", { name: dom });
    seen.push(map.get(dom));
    await hv.call("domain.suspend", { name: dom });
    seen.push(map.get(dom));
    await hv.call("domain.resume", { name: dom });
    seen.push(map.get(dom));
    await hv.call("domain.destroy", { name: dom });
    seen.push(map.get(dom));
    await hv.call("domain.undefine", { name: dom });
    seen.push(map.get(dom));
    expect(seen).toEqual(["shutoff", "running", "paused", "running", "shutoff", undefined]);
  });

  test("concurrent first lists share one read", async () => {
    const hv = await client(false);
    const calls = recordCalls(hv);
    vmStates(hv).forget();
    const maps = await Promise.all(Array.from({ length: 8 }, () => loadedStates(hv)));
    expect(maps.every((m) => m === vmStates(hv))).toBe(true);
    expect(calls.filter((c) => c === "domain.states")).toHaveLength(1);
  });
});
