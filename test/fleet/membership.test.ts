// Fleet membership: each berth registers under an etcd lease with its figures; a berth killed with -9 drops out when its lease runs out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FleetClient, fleetWithClients } from "./support/client.ts";
import { until } from "./support/run.ts";
import type { Topology } from "./support/topology.ts";

let fleet: Topology;
let a: FleetClient;

beforeAll(async () => {
  ({
    fleet,
    clients: { adminA: a },
  } = await fleetWithClients());
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

async function registered(): Promise<Record<string, Record<string, unknown>>> {
  const all = await fleet.etcd.client.getAll().prefix(`${fleet.prefix}/hosts/`).strings();
  return Object.fromEntries(
    Object.entries(all).map(([k, v]) => [k.split("/").at(-1) as string, JSON.parse(v)]),
  );
}

describe("fleet membership", () => {
  test("both hosts register with their api, capacity, allocation, load and version", async () => {
    const hosts = await registered();
    expect(Object.keys(hosts).sort()).toEqual(["a", "b"]);
    for (const n of ["a", "b"] as const) {
      const h = hosts[n] as Record<string, unknown>;
      expect(h.api).toBe(fleet.berths[n].api);
      expect(h.migration_address).toBe(fleet.hosts[n].ip);
      expect((h.capacity as { memory_mib: number }).memory_mib).toBeGreaterThan(0);
      expect(h.allocation).toEqual({ vcpus: 0, memory_mib: 0 });
      expect(typeof h.load).toBe("number");
      expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
    }
  });

  test("a host's record follows its allocation", async () => {
    const made = await a.call("POST", "/v1/vms?wait=true", {
      name: `m${fleet.id}`,
      host: "a",
      cpus: 1,
      memory_mib: 48,
      root_disk_gb: 1,
      start: false,
    });
    expect(made.status).toBe(200);
    await until(
      async () => ((await registered()).a as { vms: number }).vms === 1,
      10_000,
      "a's record to count the VM",
    );
    expect((await registered()).a).toMatchObject({ allocation: { vcpus: 1, memory_mib: 48 }, vms: 1 });
    expect((await a.call("DELETE", `/v1/vms/m${fleet.id}?wait=true`)).status).toBe(200);
  }, 60_000);

  test("kill -9 of a berth: its registration expires with its lease, its VMs show unreachable; a restart brings both back", async () => {
    const name = `k${fleet.id}`;
    expect(
      (await a.call("POST", "/v1/vms?wait=true", { name, host: "b", cpus: 1, memory_mib: 32, start: false }))
        .status,
    ).toBe(200);
    fleet.berths.b.kill9();
    const gone = await fleet.awaitMembers(["a"], 20_000);
    expect(Object.keys(await registered())).toEqual(["a"]);
    // Not before the lease (3 s) could have run out: the record went because the lease expired.
    expect(gone).toBeGreaterThan(1000);
    // Reads show it as unreachable on its host; actions on it cannot reach that host.
    const shown = await a.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.body]).toEqual([
      200,
      expect.objectContaining({ name, status: "unreachable", host: "b" }),
    ]);
    const started = await a.call("POST", `/v1/vms/${name}/start`);
    expect([started.status, (started.body as { error: { code: string } }).error.code]).toEqual([
      503,
      "host_unreachable",
    ]);
    const list = await a.call("GET", "/v1/vms");
    expect([list.status, list.body, list.headers.get("x-berth-fleet-unreachable")]).toEqual([
      200,
      [expect.objectContaining({ name, status: "unreachable", host: "b" })],
      "b",
    ]);
    await fleet.berths.b.start();
    await fleet.awaitMembers(["a", "b"], 10_000);
    expect(Object.keys(await registered()).sort()).toEqual(["a", "b"]);
    expect((await a.call("GET", `/v1/vms/${name}`)).status).toBe(200);
    expect((await a.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 60_000);
});
