// Staging names are libvirt names verbatim; hosts and networks older berths stored as `s--…` stay reachable by their staging names.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
/** What an older berth made for `old.example.com` on `old_example_com_vlan_10`, by those names' encodings. */
const OLD_HOST = "s--old-dexample-dcom";
const OLD_NET = "s--old-uexample-ucom-uvlan-u10";

beforeAll(async () => {
  core = await testCore(testConfig('[network]\nmanage_bridges = false\n[storage]\npool = "stg-legacy"'));
  api = apiClient(core);
  // Older berths created them through the same core under these names: the native API does the same.
  expect((await api.post("/v1/networks", { name: OLD_NET, bridge: "stglbr0", vlan: 10 })).status).toBe(201);
  const vm = { name: OLD_HOST, cpus: 1, memory_mib: 128, root_disk_gb: 1, networks: [OLD_NET] };
  expect((await api.post("/v1/vms?wait=true", vm)).status).toBe(200);
});
afterAll(() => core.close());

const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name);
const networks = async () => (await core.hv.call("network.list", {})).map((n) => n.name);
const expectError = (r: Reply, status: number, message?: RegExp) => {
  expect({ status: r.status, keys: Object.keys(r.body ?? {}) }).toEqual({ status, keys: ["error"] });
  if (message) expect(r.body.error).toMatch(message);
};

describe("new hosts and networks are named verbatim", () => {
  test("POST /hosts/stgl-ns.example.com defines the libvirt domain stgl-ns.example.com, on the network stgl_example_com_vlan_20", async () => {
    expect(
      (await api.post("/networks/stgl_example_com_vlan_20", { bridge: "stglbr0", vlan: 20 })).status,
    ).toBe(201);
    expect(await networks()).toContain("stgl_example_com_vlan_20");
    const r = await api.post("/hosts/stgl-ns.example.com", {
      memory: 128,
      disks: [1],
      networks: ["stgl_example_com_vlan_20"],
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.any(String), name: "stgl-ns.example.com", state: "running" });
    expect(await domains()).toContain("stgl-ns.example.com");
    const xml = await core.hv.call("domain.xml", { name: "stgl-ns.example.com" });
    expect(xml).toContain("<name>stgl-ns.example.com</name>");
    expect(xml).toContain("<source network='stgl_example_com_vlan_20'");
    expect((await api.get("/v1/vms/stgl-ns.example.com")).body.id).toBe(r.body.id);
  });

  test("a name that is no hostname, or that reads as an older berth's encoding, is 400", async () => {
    const body = { memory: 128, disks: [1], networks: [] };
    expectError(
      await api.post("/hosts/-lead.example.com", body),
      400,
      /host name "-lead.example.com" is invalid/,
    );
    expectError(await api.post("/hosts/a..b", body), 400, /host name "a..b" is invalid/);
    expectError(await api.post(`/hosts/${"a".repeat(64)}.example.com`, body), 400, /is invalid/);
    expectError(await api.post("/hosts/s--x-dy", body), 400, /reserved: older berth versions stored x\.y so/);
    expectError(await api.post("/networks/s--x-uy", { bridge: "stglbr0", vlan: 5 }), 400, /reserved/);
    expect(await domains()).not.toContain("s--x-dy");
  });
});

describe("a host and a network an older berth made under s-- names", () => {
  test("are listed and probed by their staging names", async () => {
    const hosts = (await api.get("/hosts")).body as { id: string; name: string; state: string }[];
    const old = hosts.find((h) => h.name === "old.example.com");
    expect(old).toEqual({ id: expect.any(String), name: "old.example.com", state: "running" });
    expect(hosts.some((h) => h.name === OLD_HOST)).toBe(false);
    expect((await api.get("/hosts/old.example.com")).body).toEqual(old);
    const nets = (await api.get("/networks")).body as { name: string }[];
    expect(nets.map((n) => n.name)).toContain("old_example_com_vlan_10");
    expect((await api.get("/networks/old_example_com_vlan_10")).body.name).toBe("old_example_com_vlan_10");
  });

  test("creating them again is 409 (they exist), and a new host can join the old network", async () => {
    const body = { memory: 128, disks: [1], networks: ["old_example_com_vlan_10"] };
    expectError(await api.post("/hosts/old.example.com", body), 409, /exists \(as s--old-dexample-dcom/);
    expectError(await api.post("/networks/old_example_com_vlan_10", { bridge: "stglbr0", vlan: 10 }), 409);
    expect(await domains()).not.toContain("old.example.com");
    const r = await api.post("/hosts/new.example.com", body);
    expect(r.status).toBe(201);
    const vm = (await api.get("/v1/vms/new.example.com")).body;
    expect(vm.nics.map((n: { network: string }) => n.network)).toEqual([OLD_NET]);
    expect((await api.delete("/hosts/new.example.com")).status).toBe(204);
  });

  test("a VM named verbatim wins over the old encoding, and the listing never shows one name twice", async () => {
    const vm = { cpus: 1, memory_mib: 128, root_disk_gb: 1, start: false };
    const old = await api.post("/v1/vms?wait=true", { ...vm, name: "s--dup-dexample-dcom" });
    const now = await api.post("/v1/vms?wait=true", { ...vm, name: "dup.example.com" });
    expect([old.status, now.status]).toEqual([200, 200]);
    expect((await api.get("/hosts/dup.example.com")).body.id).toBe(now.body.result.id);
    const names = ((await api.get("/hosts")).body as { name: string }[]).map((h) => h.name);
    expect(names.filter((n) => n === "dup.example.com")).toHaveLength(1);
    expect(names).toContain("s--dup-dexample-dcom");
    for (const n of ["dup.example.com", "s--dup-dexample-dcom"]) {
      expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
    }
  });

  test("start, delete: the old domain goes, nothing named otherwise is touched", async () => {
    expect((await api.post(`/v1/vms/${OLD_HOST}/stop?wait=true`)).status).toBe(200);
    expect((await api.put("/hosts/old.example.com/start")).status).toBe(204);
    expect((await api.get(`/v1/vms/${OLD_HOST}`)).body.state).toBe("running");
    expect((await api.delete("/hosts/old.example.com")).status).toBe(204);
    expect(await domains()).not.toContain(OLD_HOST);
    expect(await domains()).toContain("stgl-ns.example.com");
    expectError(await api.get("/hosts/old.example.com"), 404);
    expect((await api.delete("/networks/old_example_com_vlan_10")).status).toBe(204);
    expect(await networks()).not.toContain(OLD_NET);
    expect(await networks()).toContain("stgl_example_com_vlan_20");
    expect((await api.delete("/hosts/stgl-ns.example.com")).status).toBe(204);
    expect((await api.delete("/networks/stgl_example_com_vlan_20")).status).toBe(204);
  });
});
