// A warm pool of tiny guests on real libvirtd: it fills (tcp:8080 readiness), checkout hands out VMs that
// answer on their port, and an expired VM is destroyed while the pool refills. Members are created in their
// Worker, on its own libvirt connection, as berth serve makes them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MemberWorker } from "../../src/core/pools/member-worker.ts";
import type { PeriodicJob } from "../../src/scheduler/periodic.ts";
import { startPoolScheduler } from "../../src/scheduler/pools.ts";
import type { Json } from "../support/http.ts";
import { WORKERS } from "../support/workers.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { type TinyPoolEnv, tinyPoolEnv } from "./support/tiny-pool.ts";

const POOL = `itp-${process.pid}`;

describe.skipIf(!integrationReady())("a warm pool on libvirtd", () => {
  let env: TinyPoolEnv;
  let scheduler: PeriodicJob | null = null;
  let members: MemberWorker | null = null;
  const ok = async (p: Promise<{ status: number; body: Json }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const counts = async () => (await env.api.get(`/v1/pools/${POOL}`)).body.counts;

  beforeAll(async () => {
    env = await tinyPoolEnv(
      `itp-${process.pid}`,
      "192.168.219.0/24",
      "[scheduler]\ninterval_s = 1\nmax_concurrent_creates = 2\n",
    );
  }, 600_000);

  afterAll(async () => {
    await scheduler?.stop();
    await members?.stop();
    await env?.teardown();
  }, 180_000);

  test("a pool of 2 with tcp:8080 readiness fills; checkout hands out VMs that answer; expiry destroys and refills", async () => {
    const { api } = env;
    await ok(
      api.post("/v1/pools", {
        name: POOL,
        profile: env.profile,
        size: 2,
        ready_check: "tcp:8080",
        ready_timeout: 5,
      }),
      201,
    );
    const t0 = performance.now();
    members = new MemberWorker(env.core, WORKERS);
    scheduler = startPoolScheduler(env.core, { create: members.create });
    await waitFor(async () => (await counts()).ready === 2, 150_000, "2 ready VMs");
    console.log(
      `pool of 2 tiny guests ready from empty in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const out = await ok(api.post("/v1/checkout", { [POOL]: 1 }));
    const name = out.vms[0].name as string;
    const vm = (await api.get(`/v1/vms/${name}`)).body;
    expect(vm.primary_ipv4).toMatch(/^192\.168\.219\./);
    const page = await fetch(`http://${vm.primary_ipv4}:8080/`).then((r) => r.text());
    expect(page).toContain("berth test guest");

    // The pool refills behind the checkout, then the checked-out VM's short lifetime ends.
    await waitFor(async () => (await counts()).ready === 2, 150_000, "the pool to refill");
    await ok(api.patch(`/v1/vms/${name}`, { lifetime: 0.0005 }));
    await waitFor(
      async () => (await api.get(`/v1/vms/${name}`)).status === 404,
      60_000,
      "the expired VM to go",
    );
    const left = await counts();
    expect(left.checked_out).toBe(0);
    expect(left.ready + left.pending).toBe(2);
  }, 420_000);
});
