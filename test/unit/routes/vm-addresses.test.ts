// /v1/vms/{name}/addresses on the test driver, primaryIpv4, and the pure MAC matching behind them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { assignAddresses, primaryIpv4, type Sighting } from "../../../src/core/vms/addresses.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const VM = "uad-a";
const NAT = "uad-nat";
const OVS = "uad-v42";
const VM_OVS = "uad-ovs";

beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "uad-pool"\n[network]\nmanage_bridges = false`));
  api = apiClient(core);
  expect(
    (await api.post("/v1/networks", { name: NAT, mode: "nat", subnet: "10.78.4.0/24", bridge: "uadnat0" }))
      .status,
  ).toBe(201);
  expect((await api.post("/v1/networks", { name: OVS, bridge: "uadbr0", vlan: 42 })).status).toBe(201);
  const small = { cpus: 1, memory_mib: 64, root_disk_gb: 1 };
  expect((await api.post("/v1/vms?wait=true", { name: VM, ...small, networks: [NAT, NAT] })).status).toBe(
    200,
  );
  expect(
    (await api.post("/v1/vms?wait=true", { name: VM_OVS, ...small, networks: [NAT, OVS], start: false }))
      .status,
  ).toBe(200);
});
afterAll(() => core.close());

const vm = async () => (await api.get(`/v1/vms/${VM}`)).body;

describe("GET /v1/vms/{name}/addresses", () => {
  test("a running VM: one entry per NIC in order with its MAC, addresses with their source", async () => {
    const { nics } = await vm();
    const r = await api.get(`/v1/vms/${VM}/addresses`);
    expect(r.status).toBe(200);
    expect(
      r.body.map((n: { network: string; mac: string; vlan: number | null }) => [n.network, n.mac, n.vlan]),
    ).toEqual([
      [NAT, nics[0].mac, null],
      [NAT, nics[1].mac, null],
    ]);
    // The test driver has no DHCP leases; its agent and ARP answers invent an IPv4 per NIC: each
    // NIC gets its own, listed once, from the agent (trusted before ARP).
    const [a, b] = r.body.map((n: { addresses: unknown[] }) => n.addresses);
    expect(a).toEqual([
      { address: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), prefix: 24, family: "ipv4", source: "agent" },
    ]);
    expect(b).toHaveLength(1);
    expect(b[0].address).not.toBe(a[0].address);
  });

  test("each NIC shows its network's VLAN; an OVS NIC on the test driver is not asked about", async () => {
    const r = await api.get(`/v1/vms/${VM_OVS}/addresses`);
    expect(r.status).toBe(200);
    expect(r.body.map((n: { network: string; vlan: number | null }) => [n.network, n.vlan])).toEqual([
      [NAT, null],
      [OVS, 42],
    ]);
    expect(r.body.map((n: { addresses: unknown[] }) => n.addresses)).toEqual([[], []]);
    // Running, the test driver would crash the process in virDomainInterfaceAddresses (no <ip> on
    // the OVS network); berth does not ask it, so the lists stay empty and the process lives.
    expect((await api.post(`/v1/vms/${VM_OVS}/start?wait=true`)).status).toBe(200);
    const running = await api.get(`/v1/vms/${VM_OVS}/addresses`);
    expect(running.body.map((n: { addresses: unknown[] }) => n.addresses)).toEqual([[], []]);
    expect(await primaryIpv4(core, (await api.get(`/v1/vms/${VM_OVS}`)).body)).toBeNull();
  });

  test("a stopped VM has the same NICs with empty address lists, not an error", async () => {
    expect((await api.post(`/v1/vms/${VM}/stop?wait=true`)).status).toBe(200);
    const r = await api.get(`/v1/vms/${VM}/addresses`);
    expect(r.status).toBe(200);
    expect(r.body.map((n: { addresses: unknown[] }) => n.addresses)).toEqual([[], []]);
    expect(await primaryIpv4(core, await vm())).toBeNull();
    expect((await api.post(`/v1/vms/${VM}/start?wait=true`)).status).toBe(200);
  });

  test("a VM without NICs has no entries", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "uad-bare",
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
    });
    expect(r.status).toBe(200);
    expect((await api.get("/v1/vms/uad-bare/addresses")).body).toEqual([]);
    expect(await primaryIpv4(core, await (await api.get("/v1/vms/uad-bare")).body)).toBeNull();
  });

  test("unknown VM 404, invalid name 400, unknown query field 400", async () => {
    const missing = await api.get("/v1/vms/uad-nope/addresses");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: "not_found", message: "vm uad-nope does not exist" });
    expect((await api.get("/v1/vms/bad..name/addresses")).status).toBe(400);
    const extra = await api.get(`/v1/vms/${VM}/addresses?source=arp`);
    expect(extra.status).toBe(400);
    expect(extra.body.error.code).toBe("invalid_request");
  });
});

describe("primaryIpv4", () => {
  test("is the first NIC's first IPv4, as the route lists it", async () => {
    const first = (await api.get(`/v1/vms/${VM}/addresses`)).body[0].addresses[0].address;
    expect(await primaryIpv4(core, await vm())).toBe(first);
    expect(await primaryIpv4(core, { name: VM, nics: (await vm()).nics })).toBe(first);
    const second = (await api.get(`/v1/vms/${VM}/addresses`)).body[1].addresses[0].address;
    expect(await primaryIpv4(core, { name: VM, nics: (await vm()).nics.slice(1) })).toBe(second);
  });

  test("a state the caller knows to be off asks libvirt nothing", async () => {
    expect(
      await primaryIpv4(core, {
        name: "uad-no-such-domain",
        state: "shutoff",
        nics: [{ network: NAT, mac: "52:54:00:00:00:01" }],
      }),
    ).toBeNull();
    expect(
      await primaryIpv4(core, {
        name: "uad-no-such-domain",
        state: "absent",
        nics: [{ network: NAT, mac: "52:54:00:00:00:01" }],
      }),
    ).toBeNull();
  });
});

describe("assignAddresses (pure)", () => {
  const nics = [
    { network: "n1", mac: "52:54:00:AA:bb:01", vlan: 7 },
    { network: "n2", mac: "52:54:00:aa:bb:02" },
  ];
  const seen = (
    mac: string,
    address: string,
    source: Sighting["source"],
    family: Sighting["family"] = "ipv4",
  ): Sighting => ({
    mac,
    address,
    prefix: family === "ipv4" ? 24 : 64,
    family,
    source,
  });

  test("MACs match exactly and case-insensitively; a prefix or a longer MAC is not a match", () => {
    const out = assignAddresses(nics, [
      seen("52:54:00:aa:bb:01", "10.0.0.5", "lease"),
      seen("52:54:00:aa:bb:0", "10.0.0.6", "lease"),
      seen("52:54:00:aa:bb:011", "10.0.0.7", "arp"),
      seen("52:54:00:AA:BB:02", "10.0.1.9", "arp"),
    ]);
    expect(out).toEqual([
      {
        network: "n1",
        mac: "52:54:00:AA:bb:01",
        vlan: 7,
        addresses: [{ address: "10.0.0.5", prefix: 24, family: "ipv4", source: "lease" }],
      },
      {
        network: "n2",
        mac: "52:54:00:aa:bb:02",
        vlan: null,
        addresses: [{ address: "10.0.1.9", prefix: 24, family: "ipv4", source: "arp" }],
      },
    ]);
  });

  test("an address seen by several sources is listed once, from the most trusted; IPv6 is kept", () => {
    const [one] = assignAddresses(
      [nics[0] as (typeof nics)[0]],
      [
        seen("52:54:00:aa:bb:01", "10.0.0.5", "arp"),
        seen("52:54:00:aa:bb:01", "FE80::1", "agent", "ipv6"),
        seen("52:54:00:aa:bb:01", "10.0.0.5", "agent"),
        seen("52:54:00:aa:bb:01", "fe80::1", "arp", "ipv6"),
        seen("52:54:00:aa:bb:01", "10.0.0.5", "lease"),
      ],
    );
    expect(one?.addresses).toEqual([
      { address: "10.0.0.5", prefix: 24, family: "ipv4", source: "lease" },
      { address: "FE80::1", prefix: 64, family: "ipv6", source: "agent" },
    ]);
  });

  test("nothing seen: every NIC with an empty list", () => {
    expect(assignAddresses(nics, []).map((n) => n.addresses)).toEqual([[], []]);
  });
});
