// Power actions on the test driver: each moves the VM between states; acting in the wrong state is 409.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { powerVm } from "../../../src/core/vms/power.ts";
import type { DomainState } from "../../../src/ffi/constants.ts";
import { apiClient } from "../../support/api.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore();
  api = apiClient(core);
  expect(
    (await api.post("/v1/vms?wait=true", { name: "p1", cpus: 1, memory_mib: 64, root_disk_gb: 1 })).status,
  ).toBe(200);
});
afterAll(() => core.close());

const act = (action: string, body?: unknown) => api.post(`/v1/vms/p1/${action}?wait=true`, body);
const status = async () => (await api.get("/v1/vms/p1")).body.status;
const libvirtState = async () => (await core.hv.call("domain.info", { name: "p1" })).state;

test("stop, start, suspend, resume, restart, reset, shutdown move the VM and libvirt together", async () => {
  const steps: [string, string, DomainState][] = [
    ["stop", "stopped", "shutoff"],
    ["start", "running", "running"],
    ["suspend", "paused", "paused"],
    ["resume", "running", "running"],
    ["restart", "running", "running"],
    ["reset", "running", "running"],
    ["shutdown", "stopped", "shutoff"],
  ];
  for (const [action, want, libvirt] of steps) {
    const r = await act(action);
    expect({ action, status: r.status, op: r.body.status }).toEqual({ action, status: 200, op: "succeeded" });
    expect(r.body.kind).toBe(`vm.${action}`);
    expect(await status()).toBe(want);
    expect(await libvirtState()).toBe(libvirt);
  }
  const vm = (await api.get("/v1/vms/p1")).body;
  expect(vm.stopped_at >= vm.started_at).toBe(true);
});

test("acting on a VM already in the target state is a 409 that says why", async () => {
  expect(await status()).toBe("stopped");
  for (const action of ["stop", "shutdown", "restart", "reset", "suspend", "resume"]) {
    const r = await act(action);
    expect({ action, status: r.status }).toEqual({ action, status: 409 });
    expect(r.body.error.message).toContain("it is stopped");
  }
  await act("start");
  const again = await act("start");
  expect(again.status).toBe(409);
  expect(again.body.error.message).toBe("cannot start vm p1: it is running");
});

test("shutdown takes only timeout_s and force; unknown VMs are 404; unknown actions 404", async () => {
  expect((await act("shutdown", { timeout_s: 0 })).status).toBe(400);
  expect((await act("shutdown", { please: true })).status).toBe(400);
  // Malformed JSON is refused before anything happens (an optional body must not hide a parse error).
  await act("start");
  const bad = await api.raw("POST", "/v1/vms/p1/shutdown?wait=true", "{nope");
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe("invalid_json");
  expect(await status()).toBe("running");
  expect((await api.post("/v1/vms/nope/start")).status).toBe(404);
  expect((await api.post("/v1/vms/p1/explode")).status).toBe(404);
  expect((await api.post("/v1/vms/p1/shutdown?wait=true")).status).toBe(200); // no body: the defaults
  await act("start");
  const r = await act("shutdown", { timeout_s: 5, force: true });
  expect(r.status).toBe(200);
  expect(await status()).toBe("stopped");
});

test("an action whose check passed just before another client stopped the VM ends 409, not a libvirt error", async () => {
  expect(
    (await api.post("/v1/vms?wait=true", { name: "p-race", cpus: 1, memory_mib: 64, root_disk_gb: 1 }))
      .status,
  ).toBe(200);
  // Fault injector: the first state read answers "running", then someone else stops the domain.
  let fired = false;
  const hv = {
    get state() {
      return core.hv.state;
    },
    call: async (op: string, args: unknown) => {
      const r = await core.hv.call(op as never, args as never);
      if (op === "domain.info" && !fired) {
        fired = true;
        await core.hv.call("domain.destroy", { name: "p-race" });
      }
      return r;
    },
  } as unknown as Core["hv"];
  const op = await powerVm({ ...core, hv }, SYSTEM, "p-race", "stop");
  const done = await core.ops.wait(op.id, 5);
  expect(done.status).toBe("failed");
  expect(done.error).toEqual({
    code: "conflict",
    message: "cannot stop vm p-race: it is stopped",
    status: 409,
  });
  expect((await api.get("/v1/vms/p-race")).body.status).toBe("stopped");
  expect((await api.delete("/v1/vms/p-race?wait=true")).status).toBe(200);
});
