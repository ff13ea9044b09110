// The HTTP thread's hypervisor client: Worker calls, error mapping, deadlines, fast 503s while down.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fromWire, Hypervisor, isNoSuchDomain } from "../../src/core/hypervisor/client.ts";
import { AppError, HypervisorTimeout, HypervisorUnavailable } from "../../src/errors.ts";
import { WORKERS } from "../support/workers.ts";

const opts = {
  uri: "test:///default",
  workerUrl: WORKERS.hypervisor,
  workers: 1,
  callTimeoutMs: 2000,
  longCallTimeoutMs: 5000,
  reconnectMaxMs: 200,
};

let hv: Hypervisor;
beforeAll(async () => {
  hv = new Hypervisor(opts);
  await hv.start();
});
afterAll(() => hv.close());

test("connects and answers typed calls from its Worker", async () => {
  expect(hv.state).toBe("up");
  const info = await hv.call("hostInfo", {});
  expect(info.uri).toBe("test:///default");
  expect((await hv.call("ping", {})).libvirtVersion).toBe(info.libvirtVersion);
  const domains = await hv.call("domain.list", {});
  expect(domains.map((d) => d.name)).toContain("test");
  // The test driver is shared by every file of the run: look at its own domain, not whichever lists first.
  expect(domains.find((d) => d.name === "test")?.state).toBe("running");
});

test("a libvirt failure arrives as an AppError carrying libvirt's code", async () => {
  const err = await hv.call("domain.info", { name: "no-such-vm" }).catch((e) => e);
  expect(err).toBeInstanceOf(AppError);
  expect(isNoSuchDomain(err)).toBe(true);
  expect((err as AppError).details?.libvirtCode).toBe(42);
});

test("a call past its deadline fails with a timeout and the Worker is replaced", async () => {
  const started = performance.now();
  const err = await hv.call("debug.block", { ms: 1500 }, { timeoutMs: 100 }).catch((e) => e);
  expect(err).toBeInstanceOf(HypervisorTimeout);
  expect(performance.now() - started).toBeLessThan(1000);
  // The replacement reconnects; berth is usable again without a restart.
  for (let i = 0; i < 50 && hv.state !== "up"; i++) await Bun.sleep(50);
  expect(hv.state).toBe("up");
  expect((await hv.call("hostInfo", {})).uri).toBe("test:///default");
});

test("a quick call never waits behind long ones: with 3 Workers, long calls leave the first to quick ones", async () => {
  const lanes = new Hypervisor({ ...opts, workers: 3 });
  await lanes.start();
  try {
    const longs = Array.from({ length: 4 }, () => lanes.call("debug.blockLong", { ms: 600 }));
    const t0 = performance.now();
    await lanes.call("domain.list", {});
    // Behind the long calls it would take 1.2 s (two of them queued on each Worker).
    expect(performance.now() - t0).toBeLessThan(400);
    await Promise.all(longs);
  } finally {
    await lanes.close();
  }
});

test("Workers start on demand: one at start, more while calls queue (up to `workers`), idle ones ended", async () => {
  const grow = new Hypervisor({ ...opts, workers: 3, idleWorkerMs: 300 });
  await grow.start();
  try {
    expect(grow.workerCount).toBe(1);
    // One call at a time never needs a second Worker.
    for (let i = 0; i < 5; i++) await grow.call("domain.list", {});
    expect(grow.workerCount).toBe(1);
    // Three calls at once: each gets its own Worker, so they run side by side; a fourth queues.
    const calls = Array.from({ length: 4 }, () => grow.call("debug.block", { ms: 300 }));
    expect(grow.workerCount).toBe(3);
    const t0 = performance.now();
    await Promise.all(calls);
    // Side by side: two rounds of 300 ms, not four.
    expect(performance.now() - t0).toBeLessThan(1100);
    // Idle past idleWorkerMs, the extra Workers end; the first stays and answers.
    for (let i = 0; i < 40 && grow.workerCount > 1; i++) await Bun.sleep(50);
    expect(grow.workerCount).toBe(1);
    expect((await grow.call("hostInfo", {})).uri).toBe("test:///default");
  } finally {
    await grow.close();
  }
});

test("many concurrent calls all get answers", async () => {
  const results = await Promise.all(Array.from({ length: 200 }, () => hv.call("domain.list", {})));
  expect(results.every((r) => r.length >= 1)).toBe(true);
});

test("with no daemon to reach, start returns, state is down and calls fail fast with 503", async () => {
  const down = new Hypervisor({
    ...opts,
    uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
  });
  await down.start();
  try {
    expect(down.state).toBe("down");
    const t0 = performance.now();
    const err = await down.call("domain.list", {}).catch((e) => e);
    expect(err).toBeInstanceOf(HypervisorUnavailable);
    expect((err as AppError).httpStatus).toBe(503);
    expect((err as AppError).errorCode).toBe("hypervisor_unavailable");
    expect(performance.now() - t0).toBeLessThan(50);
  } finally {
    await down.close();
  }
});

test("ENOSPC in libvirt's message (qemu-img on a full pool) maps to 507 insufficient_storage", () => {
  const message =
    "internal error: Child process (/usr/bin/qemu-img create -f qcow2 /p/x.qcow2 1G) unexpected exit status 1: " +
    "qemu-img: /p/x.qcow2: Could not resize file: No space left on device";
  const e = fromWire({ kind: "libvirt", message, libvirtCode: 1, libvirtDomain: 18 }, "volume.create");
  expect(e.httpStatus).toBe(507);
  expect(e.errorCode).toBe("insufficient_storage");
  expect(e.details).toEqual({ op: "volume.create", libvirtCode: 1, libvirtDomain: 18 });
  // A name that merely contains the letters is not a full disk: names are lowercase.
  const other = fromWire(
    { kind: "libvirt", message: "Domain not found: no domain with matching name 'enospc'", libvirtCode: 42 },
    "domain.info",
  );
  expect(other.httpStatus).toBe(502);
});
