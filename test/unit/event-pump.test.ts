// libvirt's default event loop is one per process: several hypervisor clients in one process share one pump.
import { afterAll, test } from "bun:test";
import { Hypervisor, type LifecycleListener } from "../../src/core/hypervisor/client.ts";
import { WORKERS } from "../support/workers.ts";

const opts = {
  uri: "test:///default",
  workerUrl: WORKERS.hypervisor,
  pumpUrl: WORKERS.pump,
  workers: 1,
  callTimeoutMs: 5000,
  longCallTimeoutMs: 5000,
  reconnectMaxMs: 200,
};
const DOM = `pump-shared-${process.pid}`;
const XML = `<domain type='test'><name>${DOM}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;

const open: Hypervisor[] = [];
afterAll(async () => {
  for (const hv of open) await hv.close();
});

async function client(): Promise<{ hv: Hypervisor; seen: string[] }> {
  const hv = new Hypervisor(opts);
  open.push(hv);
  await hv.start();
  const seen: string[] = [];
  const listener: LifecycleListener = (e) => {
    if (e.name === DOM) seen.push(e.event);
  };
  hv.onLifecycle(listener);
  return { hv, seen };
}

/** The pump opens each client's connection on its own thread: wait until every one sees a define. */
async function listening(hv: Hypervisor, clients: { seen: string[] }[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await hv.call("domain.define", { xml: XML });
    await Bun.sleep(20);
    if (clients.every((c) => c.seen.includes("defined"))) return;
    await hv.call("domain.undefine", { name: DOM });
  }
  throw new Error("the clients never saw a define");
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

test("two clients open at once both get lifecycle events, and a client opened after one closed still does", async () => {
  const a = await client();
  const b = await client();
  await listening(a.hv, [a, b]);
  await a.hv.call("domain.create", { name: DOM });
  await until(() => a.seen.includes("started") && b.seen.includes("started"), "started on both");
  await a.hv.call("domain.destroy", { name: DOM });
  await until(() => a.seen.includes("stopped") && b.seen.includes("stopped"), "stopped on both");
  await a.hv.close();
  open.splice(open.indexOf(a.hv), 1);
  const c = await client();
  await b.hv.call("domain.undefine", { name: DOM });
  await listening(b.hv, [c]);
  await b.hv.call("domain.create", { name: DOM });
  await until(() => b.seen.filter((e) => e === "started").length === 2, "the second start on b");
  await until(() => c.seen.includes("started"), "started on the client opened after a closed");
  await b.hv.call("domain.destroy", { name: DOM });
  await b.hv.call("domain.undefine", { name: DOM });
}, 30_000);
