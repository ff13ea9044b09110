// kill -9 berth at seeded random moments during creates, deletes, pool refills and checkouts; after the last
// restart nothing is orphaned, no row points at a missing domain, no VM was handed out twice, the pool is full.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../integration/support/daemons.ts";
import { integrationReady } from "../integration/support/env.ts";
import type { Json } from "../support/http.ts";
import { BerthProcess } from "./support/berth-process.ts";
import { inconsistencies, type LibvirtView, libvirtView, scrub } from "./support/libvirt-view.ts";
import { seededRandom } from "./support/seeded.ts";

const P = `fc${process.pid}`;
const POOL = `${P}-pool`;
const PROFILE = `${P}-p`;
const POOL_SIZE = 3;
const KILLS = Number(process.env.FAULT_KILLS ?? 20);
const mine = (name: string) => name.startsWith(`${P}-`);

describe.skipIf(!integrationReady())("crash anywhere", () => {
  const berth = new BerthProcess({
    tag: P,
    extraToml: [
      "[reconcile]",
      "interval_s = 5",
      'orphans = "remove"',
      "[scheduler]",
      "interval_s = 1",
      "max_concurrent_creates = 2",
      // Up to 4 VMs, a pool of 3, checked-out and draining ones: more than a 2-core host's default 8 vCPUs.
      "[capacity]",
      "vcpu_overcommit = 16",
    ].join("\n"),
  });
  let view: LibvirtView;

  beforeAll(async () => {
    view = await libvirtView();
    await berth.start();
    await berth.ok("POST", "/v1/profiles", { name: PROFILE, cpus: 1, memory_mib: 32, root_disk_gb: 1 }, 201);
    await berth.ok("POST", "/v1/pools", { name: POOL, profile: PROFILE, size: POOL_SIZE }, 201);
  }, 60_000);

  afterAll(async () => {
    if (!berth.running) await berth.start().catch((e) => console.warn(`cleanup start: ${e}`));
    if (berth.running) {
      await berth.api("DELETE", `/v1/pools/${POOL}`).catch(() => null);
      await waitFor(
        async () => {
          const vms: Json[] = (await berth.get("/v1/vms")).body ?? [];
          for (const vm of vms.filter((v) => mine(v.name)))
            await berth.api("DELETE", `/v1/vms/${vm.name}?wait=true`).catch(() => null);
          return ((await berth.get("/v1/vms")).body ?? []).length === 0;
        },
        90_000,
        "every VM deleted",
      ).catch((e) => console.warn(`cleanup: ${e}`));
      await berth.api("DELETE", `/v1/profiles/${PROFILE}`).catch(() => null);
      await berth.stop();
    }
    await scrub(view, mine, berth.storagePool);
    await view.close();
  }, 180_000);

  test(`${KILLS} kills -9 during a stream of work: nothing orphaned, nothing handed out twice`, async () => {
    const rnd = seededRandom("crash-anywhere");
    const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rnd.next() * xs.length)];
    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    const handedOut: string[] = [];
    const standalone = new Set<string>();
    let n = 0;

    const send = async (method: string, path: string, body?: unknown) => {
      const r = await berth.api(method, path, body, 20_000).catch(() => null); // killed mid-request
      if (!r) return null;
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status >= 500 && !(r.status === 503 && r.body?.error?.code === "pool_empty"))
        fivexx.push(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
      return r;
    };

    const action = async () => {
      const x = rnd.next();
      if (x < 0.3 && standalone.size < 4) {
        const name = `${P}-v${n++}`;
        standalone.add(name);
        await send("POST", "/v1/vms", { name, profile: PROFILE });
      } else if (x < 0.5) {
        const name = pick([...standalone]);
        if (!name) return;
        const r = await send("DELETE", `/v1/vms/${name}`);
        if (r?.status === 404) standalone.delete(name);
      } else if (x < 0.53) {
        // A reset drains the ready VMs and refills the pool with a new generation.
        await send("POST", `/v1/pools/${POOL}/reset`);
      } else if (x < 0.8) {
        const r = await send("POST", "/v1/checkout", { [POOL]: 1 });
        if (r?.status === 200) handedOut.push(...r.body.vms.map((v: Json) => v.name as string));
      } else {
        const name = pick(handedOut);
        if (name) await send("DELETE", `/v1/vms/${name}`);
      }
    };

    const t0 = performance.now();
    for (let k = 0; k < KILLS; k++) {
      if (!berth.running) await berth.start();
      const windowMs = 150 + Math.floor(rnd.next() * 2500);
      const deadline = performance.now() + windowMs;
      const inFlight: Promise<unknown>[] = [];
      while (performance.now() < deadline) {
        inFlight.push(action());
        await Bun.sleep(20 + Math.floor(rnd.next() * 250));
      }
      await berth.kill9();
      await Promise.all(inFlight);
      console.log(`kill ${k + 1}/${KILLS} after ${windowMs} ms (${inFlight.length} actions)`);
    }
    await berth.start();
    console.log(`${KILLS} kills in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Settled: a reconcile pass ended since the last start (it finishes the deletes a kill cut short one row
    // at a time, so between two of them no operation runs), no create left half-done, nothing running, the
    // pool refilled and ready.
    const settled = await waitFor(
      async () => {
        if ((await berth.reconcilePasses()) === 0) return false;
        const running: Json[] = (await berth.get("/v1/operations?status=running")).body;
        const pool = (await berth.get(`/v1/pools/${POOL}`)).body;
        const bad = await inconsistencies(berth, view, mine);
        return (
          running.length === 0 &&
          pool.counts.ready === POOL_SIZE &&
          pool.counts.pending === 0 &&
          bad.creating.length === 0
        );
      },
      120_000,
      "berth to settle after the last restart",
    ).catch(async (e) => {
      const pool = (await berth.get(`/v1/pools/${POOL}`)).body;
      throw new Error(`${e}: pool ${JSON.stringify(pool?.counts)}\n${berth.stderrTail()}`);
    });
    console.log(`settled ${(settled / 1000).toFixed(1)} s after the last restart`);
    console.log(`answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);

    console.log(
      `what berth reported: ${JSON.stringify(Object.fromEntries([...berth.messages].sort((a, b) => b[1] - a[1])))} (log: ${berth.logFile})`,
    );
    expect(await inconsistencies(berth, view, mine)).toEqual({
      orphanDomains: [],
      orphanVolumes: [],
      rowsWithoutDomain: [],
      creating: [],
    });
    expect(fivexx).toEqual([]);
    expect(handedOut.length).toBe(new Set(handedOut).size);
    const pool = (await berth.get(`/v1/pools/${POOL}`)).body;
    expect(pool.counts.ready).toBe(POOL_SIZE);
    // Every VM berth says is checked out still exists, and was handed out by one checkout at most.
    const vms: Json[] = (await berth.get("/v1/vms")).body;
    const domains = new Set((await view.domains(mine)).map((d) => d.name));
    for (const vm of vms) expect(domains.has(vm.name)).toBe(true);
    console.log(
      `${handedOut.length} VMs handed out, ${vms.length} VMs at the end, ${berth.starts} starts of berth`,
    );
  }, 300_000);
});
