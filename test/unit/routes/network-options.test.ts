// /v1/networks with a managed network's options: create, PATCH (redefined in libvirt), reservations and leases.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(testConfig("[network]\nmanage_bridges = false"));
  api = apiClient(core);
});
afterAll(() => core.close());
const xml = (name: string) => core.hv.call("network.xml", { name });

test("a routed network with its gateway, DHCP range, domain, IPv6, vni and description", async () => {
  const r = await api.post("/v1/networks", {
    name: "uopt-a",
    mode: "nat",
    subnet: "10.61.0.0/24",
    forward: "route",
    gateway: "10.61.0.254",
    dhcp_start: "10.61.0.10",
    dhcp_end: "10.61.0.20",
    domain: "a.example",
    subnet6: "fd00:61::/64",
    vni: 61,
    description: "opt-a",
  });
  expect(r.status).toBe(201);
  expect(r.body).toMatchObject({
    forward: "route",
    gateway: "10.61.0.254",
    dhcp: true,
    dhcp_start: "10.61.0.10",
    dhcp_end: "10.61.0.20",
    domain: "a.example",
    subnet6: "fd00:61::/64",
    gateway6: "fd00:61::1",
    vni: 61,
    description: "opt-a",
  });
  const x = await xml("uopt-a");
  expect(x).toContain("<forward mode='route'/>");
  expect(x).toContain("<ip address='10.61.0.254' netmask='255.255.255.0'>");
  expect(x).toContain("<range start='10.61.0.10' end='10.61.0.20'/>");
  expect(x).toContain("<ip family='ipv6' address='fd00:61::1' prefix='64'>");
  expect(
    (await api.post("/v1/networks", { name: "uopt-b", mode: "nat", subnet: "10.62.0.0/24", vni: 61 })).status,
  ).toBe(409);
  expect(
    (await api.post("/v1/networks", { name: "uopt-b", bridge: "ubr9", vlan: 9, gateway: "10.62.0.1" }))
      .status,
  ).toBe(400);
});

test("PATCH changes what is given, redefines the libvirt network and keeps its reservations", async () => {
  const res = await api.post("/v1/networks/uopt-a/reservations", {
    mac: "52:54:00:0A:00:01",
    ip: "10.61.0.5",
    hostname: "r1",
  });
  expect(res).toMatchObject({
    status: 201,
    body: { network: "uopt-a", mac: "52:54:00:0a:00:01", ip: "10.61.0.5", hostname: "r1" },
  });
  expect(
    (await api.post("/v1/networks/uopt-a/reservations", { mac: "52:54:00:0a:00:01", ip: "10.61.0.6" }))
      .status,
  ).toBe(409);
  expect(
    (await api.post("/v1/networks/uopt-a/reservations", { mac: "52:54:00:0a:00:02", ip: "10.61.0.5" }))
      .status,
  ).toBe(409);
  expect(
    (await api.post("/v1/networks/uopt-a/reservations", { mac: "52:54:00:0a:00:02", ip: "10.61.0.254" }))
      .status,
  ).toBe(400);
  expect((await api.post("/v1/networks/uopt-a/reservations", { mac: "nope", ip: "10.61.0.7" })).status).toBe(
    400,
  );
  const p = await api.patch("/v1/networks/uopt-a", {
    dhcp_start: "10.61.0.30",
    dhcp_end: "10.61.0.40",
    domain: "b.example",
  });
  expect(p.status).toBe(200);
  expect(p.body).toMatchObject({
    gateway: "10.61.0.254",
    dhcp_start: "10.61.0.30",
    domain: "b.example",
    vni: 61,
  });
  const x = await xml("uopt-a");
  expect(x).toContain("<range start='10.61.0.30' end='10.61.0.40'/>");
  expect(x).toContain("<domain name='b.example'");
  expect(x).toContain("<host mac='52:54:00:0a:00:01' name='r1' ip='10.61.0.5'/>");
  expect((await api.patch("/v1/networks/uopt-a", { subnet: "10.99.0.0/24" })).status).toBe(400); // the reservation would be outside
  expect((await api.patch("/v1/networks/uopt-a", { bridge: "x" })).status).toBe(400);
  expect((await api.patch("/v1/networks/nosuch", { domain: "x.y" })).status).toBe(404);
  expect((await api.get("/v1/networks/uopt-a/reservations")).body).toEqual([
    { network: "uopt-a", mac: "52:54:00:0a:00:01", ip: "10.61.0.5", hostname: "r1" },
  ]);
  expect(await api.get("/v1/networks/uopt-a/leases")).toMatchObject({ status: 200, body: [] });
  expect((await api.delete("/v1/networks/uopt-a/reservations/52:54:00:0a:00:01")).status).toBe(204);
  expect((await api.delete("/v1/networks/uopt-a/reservations/52:54:00:0a:00:01")).status).toBe(404);
  expect(await xml("uopt-a")).not.toContain("<host ");
  expect((await api.delete("/v1/networks/uopt-a")).status).toBe(204);
});
