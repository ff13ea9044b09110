// Pool tiers on real libvirtd with the tiny guest: paused and saved pools fill, checkout wakes a VM whose
// TCP port answers, its OVS port keeps its VLAN tag, its clock is read; `restoring`; delete drops the save image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PeriodicJob } from "../../src/scheduler/periodic.ts";
import { startPoolScheduler } from "../../src/scheduler/pools.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, run } from "./support/env.ts";
import { guestClock, ovsPortsOf, saveImageBytes, tcpAnswersAfter } from "./support/tier-probe.ts";
import { type TinyPoolEnv, tinyPoolEnv } from "./support/tiny-pool.ts";

const ID = `itt-${process.pid}`;
const PAUSED = `${ID}-pz`;
const SAVED = `${ID}-sv`;
const BRIDGE = `bitt${process.pid}`.slice(0, 15);
const OVSNET = `${ID}-vl`;
const VLAN = 43;

describe.skipIf(!integrationReady())("pool tiers on libvirtd", () => {
  let env: TinyPoolEnv;
  let scheduler: PeriodicJob | null = null;
  const ok = async (p: Promise<{ status: number; body: Json }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const counts = async (pool: string) => (await env.api.get(`/v1/pools/${pool}`)).body.counts;
  const readyVm = async (pool: string) =>
    (
      env.core.db
        .query("SELECT vm_name FROM pool_vms WHERE pool = ? AND status = 'ready' ORDER BY ready_at")
        .get(pool) as { vm_name: string } | null
    )?.vm_name as string;
  const state = async (name: string) => (await env.core.hv.call("domain.info", { name })).state;
  const uuid = async (name: string) => (await env.core.hv.call("domain.info", { name })).uuid;

  /** What the woken guest shows: TCP port, OVS tag, clock against the host's. */
  const probe = async (name: string, label: string) => {
    const vm = (await env.api.get(`/v1/vms/${name}`)).body;
    const tcpMs = await tcpAnswersAfter(vm.primary_ipv4, 8080, 30_000);
    expect(tcpMs).not.toBeNull();
    const ports = ovsPortsOf(await uuid(name));
    expect(ports.map((p) => p.tag)).toEqual([VLAN]);
    const guest = await guestClock(env.core, name);
    const host = Math.floor(Date.now() / 1000);
    expect(guest).not.toBeNull();
    console.log(
      `${label}: tcp:8080 answered ${tcpMs?.toFixed(0)} ms after the probe began (VM running); OVS port ${ports[0]?.port} tag ${ports[0]?.tag}; guest clock ${guest} vs host ${host} (guest − host ${(guest ?? 0) - host} s)`,
    );
    return (guest ?? 0) - host;
  };

  beforeAll(async () => {
    env = await tinyPoolEnv(
      ID,
      "192.168.223.0/24",
      '[scheduler]\ninterval_s = 1\nmax_concurrent_creates = 2\n[network]\novs_datapath = "netdev"\nmanage_bridges = true\n',
    );
    await ok(env.api.post("/v1/networks", { name: OVSNET, bridge: BRIDGE, vlan: VLAN }), 201);
    for (const [name, tier] of [
      [PAUSED, "paused"],
      [SAVED, "saved"],
    ]) {
      await ok(
        env.api.post("/v1/pools", {
          name,
          profile: env.profile,
          networks: [env.network, OVSNET],
          size: 1,
          ready_check: "tcp:8080",
          ready_timeout: 5,
          tier,
        }),
        201,
      );
    }
    scheduler = startPoolScheduler(env.core);
    await waitFor(
      async () => (await counts(PAUSED)).ready === 1 && (await counts(SAVED)).ready === 1,
      240_000,
      "a ready VM in each pool",
    );
  }, 600_000);

  afterAll(async () => {
    await scheduler?.stop();
    if (env) {
      // The OVS network goes before teardown closes the core, once no VM uses it.
      for (const p of [PAUSED, SAVED]) await env.api.delete(`/v1/pools/${p}`);
      for (const vm of (await env.api.get("/v1/vms")).body ?? [])
        await env.api.delete(`/v1/vms/${vm.name}?wait=true`);
      await env.api.delete(`/v1/networks/${OVSNET}`);
    }
    await env?.teardown();
    run(["ovs-vsctl", "--if-exists", "del-br", BRIDGE]);
  }, 240_000);

  test("ready VMs wait in their tier: paused, or shut off with a managed save image", async () => {
    const p = await readyVm(PAUSED);
    const s = await readyVm(SAVED);
    expect(await state(p)).toBe("paused");
    expect(await state(s)).toBe("shutoff");
    expect(await env.core.hv.call("domain.hasManagedSave", { name: s })).toBe(true);
    expect(saveImageBytes(s)).toBeGreaterThan(0);
    console.log(`managed save image of ${s}: ${((saveImageBytes(s) ?? 0) / 2 ** 20).toFixed(1)} MiB`);
  }, 60_000);

  test("checkout of a paused VM answers once it runs; its port answers, its VLAN tag is back", async () => {
    await Bun.sleep(5000); // a pause long enough to show in the guest's clock
    const out = await ok(env.api.post("/v1/checkout", { [PAUSED]: 1 }));
    const name = out.vms[0].name as string;
    expect(out.vms[0].status).toBe("running");
    expect(await state(name)).toBe("running");
    await probe(name, "paused → running");
  }, 120_000);

  test("checkout of a saved VM with wait=false answers restoring, then it runs and answers", async () => {
    const out = await ok(env.api.post("/v1/checkout?wait=false", { [SAVED]: 1 }));
    const name = out.vms[0].name as string;
    expect(out.vms[0].status).toBe("restoring");
    await waitFor(
      async () => (await env.api.get(`/v1/vms/${name}`)).body.status === "running",
      60_000,
      "the restore",
    );
    expect(await state(name)).toBe("running");
    expect(saveImageBytes(name)).toBeNull(); // a restore consumes the image
    await probe(name, "saved → running");
  }, 120_000);

  test("deleting a saved ready VM removes its managed save image", async () => {
    await waitFor(async () => (await counts(SAVED)).ready === 1, 240_000, "the saved pool to refill");
    const name = await readyVm(SAVED);
    expect(saveImageBytes(name)).toBeGreaterThan(0);
    await ok(env.api.delete(`/v1/vms/${name}?wait=true`), 200);
    expect(saveImageBytes(name)).toBeNull();
    const listed = run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"]).out.split("\n");
    expect(listed).not.toContain(name);
  }, 300_000);
});
