// On-demand requests of fleet pools: fulfilled from any host's ready VMs (all or nothing), pending while the fleet holds too few.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FleetClient, fleetWithClients } from "./support/client.ts";
import { declareFleetPool, dropFleetPool, stockIs as fleetStockIs } from "./support/fleet-pool.ts";
import { until } from "./support/run.ts";
import type { Topology } from "./support/topology.ts";

let fleet: Topology;
let adminA: FleetClient | undefined;
let adminB: FleetClient | undefined;
let aliceA: FleetClient;
let aliceB: FleetClient;
let pool: string;
/** Ready VMs each host keeps: the fleet's stock is twice this. */
const SIZE = 1;

const host = (h: "a" | "b") => (h === "a" ? adminA : adminB) as FleetClient;

/** Waits until etcd shows `want` ready VMs per host, as host a answers it. */
const stockIs = (want: Record<string, number>, timeoutMs = 90_000) =>
  fleetStockIs([host("a")], pool, want, timeoutMs);

/** The host whose name claim holds `vm`. */
async function hostOf(vm: string): Promise<string | null> {
  const v = await fleet.etcd.client.get(`${fleet.prefix}/names/${vm}`).string();
  return v === null ? null : (JSON.parse(v) as { host: string }).host;
}

/** Polls vmpooler's status read until it answers 200 (ready); returns that answer's body. */
async function readyStatus(as: FleetClient, id: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  await until(
    async () => {
      const r = await as.call("GET", `/api/v1/ondemandvm/${id}`);
      body = r.body as Record<string, unknown>;
      return r.status === 200;
    },
    timeoutMs,
    `request ${id} ready`,
  );
  return body;
}

const hostnames = (body: Record<string, unknown>) =>
  ((body[pool] as { hostname: string[] | string }).hostname as string[] | string) ?? [];
const asList = (h: string[] | string) => (Array.isArray(h) ? h : [h]);

beforeAll(async () => {
  ({
    fleet,
    clients: { adminA, adminB, aliceA, aliceB },
  } = await fleetWithClients());
  pool = `fr${fleet.id}`;
  await declareFleetPool({ a: adminA, b: adminB }, pool, SIZE);
}, 180_000);

afterAll(async () => {
  await dropFleetPool(fleet, { a: adminA, b: adminB }, pool);
  await fleet?.down();
}, 120_000);

describe("on-demand requests of fleet pools", () => {
  test("vmpooler's ondemandvm at a takes a's and b's ready VMs; its cancel returns b's VM on b", async () => {
    await stockIs({ a: SIZE, b: SIZE });
    const made = await aliceA.call("POST", "/api/v1/ondemandvm", { [pool]: String(2 * SIZE) });
    expect(made.status).toBe(201);
    const id = (made.body as { request_id: string }).request_id;
    const body = await readyStatus(aliceA, id, 60_000);
    expect(body.ok).toBe(true);
    expect(body.ready).toBe(true);
    const names = asList(hostnames(body));
    expect(names.length).toBe(2 * SIZE);
    expect(new Set(names).size).toBe(2 * SIZE);
    const hosts = await Promise.all(names.map(hostOf));
    expect(hosts.sort()).toEqual(["a", "b"]);
    // Each host recorded its VM for alice: b's is hers, read at b.
    const onB = names[hosts.indexOf("b")] as string;
    const held = await aliceB.call("GET", "/v1/checkouts");
    expect(held.status).toBe(200);
    expect(JSON.stringify(held.body)).toContain(`"${onB}"`);
    expect((await aliceB.call("GET", `/v1/vms/${onB}`)).status).toBe(200);
    // Nothing left taken in etcd: every VM was recorded by its host.
    const taken = await fleet.etcd.client.getAll().prefix(`${fleet.prefix}/pools/${pool}/taken/`).keys();
    expect(taken).toEqual([]);
    // Cancelled at a: b's VM goes on b (asked there as alice), a's here.
    const del = await aliceA.call("DELETE", `/api/v1/ondemandvm/${id}`);
    expect(del.status).toBe(200);
    await until(async () => (await hostOf(onB)) === null, 60_000, `${onB} deleted on b`);
    expect((await aliceB.call("GET", `/v1/vms/${onB}`)).status).toBe(404);
  }, 240_000);

  test("a request beyond the fleet's stock stays pending (202 with counts) until the hosts refill", async () => {
    await stockIs({ a: SIZE, b: SIZE });
    const want = 2 * SIZE + 2;
    const made = await aliceB.call("POST", "/v1/requests", { [pool]: want });
    expect(made.status).toBe(202);
    const id = (made.body as { id: string }).id;
    const pending = await aliceB.call("GET", `/api/v1/ondemandvm/${id}`);
    expect(pending.status).toBe(202);
    const counts = (pending.body as Record<string, { ready: string; pending: string }>)[pool] as {
      ready: string;
      pending: string;
    };
    expect(Number(counts.ready) + Number(counts.pending)).toBe(want);
    expect(Number(counts.pending)).toBeGreaterThan(0);
    const body = await readyStatus(aliceB, id, 180_000);
    const names = asList(hostnames(body));
    expect(new Set(names).size).toBe(want);
    for (const n of names) expect(await hostOf(n)).not.toBeNull();
    const native = await aliceB.call("GET", `/v1/requests/${id}`);
    expect((native.body as { status: string }).status).toBe("ready");
    expect((await aliceB.call("DELETE", `/v1/requests/${id}`)).status).toBe(200);
  }, 300_000);

  test("a pending fleet request cancelled is never fulfilled; one beyond a fleet checkout's 60 VMs is a 400", async () => {
    const made = await aliceA.call("POST", "/v1/requests", { [pool]: 2 * SIZE + 3 });
    expect(made.status).toBe(202);
    const id = (made.body as { id: string }).id;
    expect((await aliceA.call("DELETE", `/v1/requests/${id}`)).status).toBe(200);
    const gone = await aliceA.call("GET", `/api/v1/ondemandvm/${id}`);
    expect([gone.status, (gone.body as { ready: boolean }).ready]).toEqual([200, false]);
    const tooMany = await aliceA.call("POST", "/v1/requests", { [pool]: 61 });
    expect(tooMany.status).toBe(400);
  });
});
