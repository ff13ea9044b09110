// A VM's recorded status follows libvirt's lifecycle events, read through the state map: events older than berth's own calls change nothing.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { BerthEvent } from "../../../src/core/events.ts";
import { vmStates } from "../../../src/core/vms/state-map.ts";
import { recordLifecycle } from "../../../src/core/vms/track.ts";
import { vmIdentityByName } from "../../../src/db/vms.ts";
import type { LifecycleEvent } from "../../../src/ffi/constants.ts";
import { apiClient } from "../../support/api.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const published: BerthEvent[] = [];
const name = `tl${process.pid}`;

beforeAll(async () => {
  core = await testCore();
  api = apiClient(core);
  core.events.subscribe((e) => published.push(e));
  // libvirt's own started event for the create, when it reaches this core at all, lands before the tests.
  const started = new Promise<void>((resolve) => {
    const off = core.hv.onLifecycle((e) => {
      if (e.name !== name || e.event !== "started") return;
      off();
      resolve();
    });
    setTimeout(resolve, 1000);
  });
  const r = await api.post("/v1/vms?wait=true", { name, cpus: 1, memory_mib: 64, root_disk_gb: 1 });
  expect(r.body.status).toBe("succeeded");
  await started;
});
afterAll(async () => {
  expect((await api.delete(`/v1/vms/${name}?wait=true`)).status).toBe(200);
  await core.close();
});

/**
 * berth's own call on the domain, answered, as the hypervisor client reports it to the state map. Only
 * reported, not made: libvirt's own events for a real call may reach this core too, and would come twice.
 */
function answered(op: "domain.destroy" | "domain.create"): void {
  vmStates(core.hv).applyCall(op, { name }, null, performance.now());
}

/** An event as the pump hands it on: the state map hears it first, then the tracker. */
function deliver(event: LifecycleEvent): void {
  const uuid = vmIdentityByName(core.db, name)?.uuid as string;
  const states = vmStates(core.hv);
  states.applyEvent(name, event);
  recordLifecycle(core, states, { name, uuid, event });
}

const statusChanges = () =>
  published.filter((e) => e.target === `vm/${name}` && /^vm\.(running|stopped)$/.test(e.type));

test("a restart's stop event, arriving after the start was answered, does not mark the VM stopped", () => {
  expect(vmIdentityByName(core.db, name)?.status).toBe("running");
  // A restart outside any action (no lock held): destroy, then create, both answered before their events.
  answered("domain.destroy");
  answered("domain.create");
  const before = statusChanges().length;
  deliver("stopped");
  expect(vmIdentityByName(core.db, name)?.status).toBe("running");
  deliver("started");
  expect(vmIdentityByName(core.db, name)?.status).toBe("running");
  expect(statusChanges().length).toBe(before);
});

test("a stop after the start's own event is recorded", () => {
  answered("domain.destroy");
  deliver("stopped");
  expect(vmIdentityByName(core.db, name)?.status).toBe("stopped");
  expect(statusChanges().at(-1)?.type).toBe("vm.stopped");
});
