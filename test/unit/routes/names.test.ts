// Names people use on the native API and vmpooler's: hostname VMs and networks, vmpooler platform pool names.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "unam";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await poolCore(P);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name);
const HOST = "web-1.staging.example.com";

describe("a VM named by a hostname", () => {
  test(`POST /v1/vms ${HOST}: the libvirt domain has exactly that name, and every route finds it`, async () => {
    const r = await api.post("/v1/vms?wait=true", { name: HOST, profile: `${P}-tiny` });
    expect(r.status).toBe(200);
    expect(await domains()).toContain(HOST);
    expect(await core.hv.call("domain.xml", { name: HOST })).toContain(`<name>${HOST}</name>`);
    expect((await api.get(`/v1/vms/${HOST}`)).body).toMatchObject({ name: HOST, state: "running" });
    expect((await api.get(`/v1/vms?name=${HOST}`)).body.map((v: { name: string }) => v.name)).toEqual([HOST]);
    expect((await api.post(`/v1/vms/${HOST}/stop?wait=true`)).status).toBe(200);
    expect((await api.post(`/v1/vms/${HOST}/disks?wait=true`, { name: "data", size_gb: 1 })).status).toBe(
      200,
    );
    expect((await api.post(`/v1/vms/${HOST}/snapshots?wait=true`, { name: "s1" })).status).toBe(200);
    // Its files are named by its id, never by the dotted name.
    const vm = (await api.get(`/v1/vms/${HOST}`)).body;
    for (const d of vm.disks) expect(d.volume).toStartWith(`vm-${vm.id}-`);
    expect((await api.delete(`/v1/vms/${HOST}?wait=true`)).status).toBe(200);
    expect(await domains()).not.toContain(HOST);
  });

  test("a name only differing by a dot or a case is another VM; exact names only", async () => {
    const mk = (name: string) => api.post("/v1/vms?wait=true", { name, profile: `${P}-tiny`, start: false });
    for (const n of ["unam.example.com", "unam-example-com", "Unam.example.com"])
      expect((await mk(n)).status).toBe(200);
    expect((await mk("unam.example.com")).status).toBe(409);
    expect((await api.get("/v1/vms/unam.example")).status).toBe(404);
    expect((await api.get("/v1/vms/unam.example.com")).body.name).toBe("unam.example.com");
    for (const n of ["unam.example.com", "unam-example-com", "Unam.example.com"]) {
      expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
    }
  });

  test("no path tricks: '..', leading dots or hyphens, empty labels and over-long names are 400", async () => {
    const bad = [
      "..",
      "a..b",
      ".a",
      "-a",
      "a.-b",
      "a.",
      `${"a".repeat(64)}.b`,
      `${"a.".repeat(122)}bc`,
      "a%2Fb",
    ];
    for (const n of bad) {
      const r = await api.post("/v1/vms", { name: decodeURIComponent(n), profile: `${P}-tiny` });
      expect({ n, status: r.status }).toEqual({ n, status: 400 });
    }
    expect((await api.get("/v1/vms/a..b")).status).toBe(400);
    expect((await api.get("/v1/vms/-a")).status).toBe(400);
  });

  test("a network named like a staging network, and one 245 characters long (246 is 400)", async () => {
    const long = `${"n".repeat(63)}.${"n".repeat(63)}.${"n".repeat(63)}.${"n".repeat(53)}`;
    expect(long).toHaveLength(245);
    for (const name of ["unam_example_com_vlan_10", long]) {
      const r = await api.post("/v1/networks", { name, bridge: "unambr0", vlan: 10 });
      expect({ name, status: r.status }).toEqual({ name, status: 201 });
      expect((await core.hv.call("network.list", {})).map((n) => n.name)).toContain(name);
    }
    const vm = await api.post("/v1/vms?wait=true", {
      name: "unam-nic",
      profile: `${P}-tiny`,
      networks: ["unam_example_com_vlan_10", long],
      start: false,
    });
    expect(vm.status).toBe(200);
    expect((await api.delete("/v1/vms/unam-nic?wait=true")).status).toBe(200);
    const r = await api.post("/v1/networks", { name: `${long}n`, bridge: "unambr0", vlan: 10 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/245/);
    for (const name of ["unam_example_com_vlan_10", long])
      expect((await api.delete(`/v1/networks/${name}`)).status).toBe(204);
  });
});

describe("pools named as vmpooler's platforms", () => {
  test("pool debian-7-x86_64 with alias win-2019_x86_64: its VMs are DNS labels, checked out by either name on vmpooler's front", async () => {
    const created = await api.post("/v1/pools", {
      name: "debian-7-x86_64",
      profile: `${P}-tiny`,
      size: 2,
      alias: ["win-2019_x86_64"],
    });
    expect(created.status).toBe(201);
    expect((await api.get("/v1/pools/debian-7-x86_64")).body.name).toBe("debian-7-x86_64");
    await fill(core, "debian-7-x86_64", 2);
    expect((await api.get("/api/v1/vm")).body).toEqual(
      expect.arrayContaining(["debian-7-x86_64", "win-2019_x86_64"]),
    );
    const label = /^debian-7-x86-64-[a-z]+-[0-9a-f]{6}$/;
    const byName = await api.post("/api/v1/vm/debian-7-x86_64");
    expect(byName.status).toBe(200);
    expect(byName.body["debian-7-x86_64"].hostname).toMatch(label);
    const byAlias = await api.post("/api/v1/vm", { "win-2019_x86_64": "1" });
    expect(byAlias.status).toBe(200);
    expect(byAlias.body["win-2019_x86_64"].hostname).toMatch(label);
    const native = await api.post("/v1/checkout", { "win-2019_x86_64": 1 });
    expect(native.status).toBe(503); // both VMs are out: the alias is a name checkout knows
    for (const h of [byName.body["debian-7-x86_64"].hostname, byAlias.body["win-2019_x86_64"].hostname]) {
      expect(await domains()).toContain(h);
    }
  });

  test("a pool named with a dot, and names no pool may have", async () => {
    expect(
      (await api.post("/v1/pools", { name: "centos-7.2-x86_64", profile: `${P}-tiny`, size: 0 })).status,
    ).toBe(201);
    for (const name of ["debian+7", "a..b", "-x", "a/b", "x".repeat(64)]) {
      const r = await api.post("/v1/pools", { name, profile: `${P}-tiny`, size: 0 });
      expect({ name, status: r.status }).toEqual({ name, status: 400 });
    }
    const r = await api.post("/v1/pools", { name: "unam-p", profile: `${P}-tiny`, size: 0, alias: ["a..b"] });
    expect(r.status).toBe(400);
  });
});
