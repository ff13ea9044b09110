// /v1/networks on the test driver: OVS VLAN/trunk and NAT networks, every error path, undo on failure.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { withContext } from "../../../src/core/networks/create.ts";
import { createNetwork, findNetwork } from "../../../src/core/networks/index.ts";
import { AppError, HypervisorError } from "../../../src/errors.ts";
import { ErrorCode } from "../../../src/ffi/error.ts";
import { fromXml } from "../../../src/xml/codec.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  // The test driver has no Open vSwitch: berth assumes the bridges exist.
  core = await testCore(testConfig("[network]\nmanage_bridges = false"));
  api = apiClient(core);
});
afterAll(() => core.close());

const libvirtNets = async (c: Core) => new Map((await c.hv.call("network.list", {})).map((n) => [n.name, n]));
const expectError = (r: Reply, status: number, message?: RegExp) => {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(r.body.error.code).toBe({ 400: "invalid_request", 404: "not_found", 409: "conflict" }[status] ?? "");
  if (message) expect(r.body.error.message).toMatch(message);
};

describe("create", () => {
  test("an OVS VLAN network is persistent, autostarted and tagged in libvirt", async () => {
    const r = await api.post("/v1/networks", { name: "unet-v10", bridge: "ubr0", vlan: 10 });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: "unet-v10",
      kind: "ovs",
      bridge: "ubr0",
      vlan: 10,
      trunk: null,
      subnet: null,
      created_at: expect.any(String),
      forward: "nat",
      gateway: null,
      dhcp: true,
      dhcp_start: null,
      dhcp_end: null,
      domain: null,
      subnet6: null,
      gateway6: null,
      vni: null,
      description: null,
      defined: true,
      active: true,
      autostart: true,
      persistent: true,
    });
    expect((await libvirtNets(core)).get("unet-v10")).toEqual({
      name: "unet-v10",
      active: true,
      autostart: true,
      persistent: true,
    });
    const xml = fromXml(await core.hv.call("network.xml", { name: "unet-v10" })) as {
      network: Record<string, Record<string, unknown>>;
    };
    expect(xml.network.bridge?.["@name"]).toBe("ubr0");
    expect(xml.network.virtualport?.["@type"]).toBe("openvswitch");
    expect(xml.network.vlan).toEqual({ tag: { "@id": "10" } });
  });

  test("an OVS trunk network keeps its tags sorted; one without vlan or trunk is untagged", async () => {
    const t = await api.post("/v1/networks", { name: "unet-trunk", bridge: "ubr0", trunk: [30, 20] });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ kind: "ovs", vlan: null, trunk: [20, 30] });
    expect(await core.hv.call("network.xml", { name: "unet-trunk" })).toContain("<vlan trunk='yes'>");
    const u = await api.post("/v1/networks", { name: "unet-flat", mode: "ovs", bridge: "ubr0" });
    expect(u.status).toBe(201);
    expect(u.body).toMatchObject({ vlan: null, trunk: null });
    expect(await core.hv.call("network.xml", { name: "unet-flat" })).not.toContain("<vlan");
  });

  test("a NAT network gets its own bridge name, a normalised subnet and DHCP", async () => {
    const r = await api.post("/v1/networks", { name: "unet-nat", mode: "nat", subnet: "10.77.3.9/24" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: "nat",
      subnet: "10.77.3.0/24",
      vlan: null,
      trunk: null,
      persistent: true,
    });
    expect(r.body.bridge).toMatch(/^virbr-[0-9a-f]{8}$/);
    const xml = await core.hv.call("network.xml", { name: "unet-nat" });
    expect(xml).toContain("<forward mode='nat'/>");
    expect(xml).toContain("<ip address='10.77.3.1' netmask='255.255.255.0'>");
    expect(xml).toContain("<range start='10.77.3.2' end='10.77.3.254'/>");
    const given = await api.post("/v1/networks", {
      name: "unet-nat2",
      mode: "nat",
      subnet: "10.78.0.0/16",
      bridge: "unatbr2",
    });
    expect(given.status).toBe(201);
    expect(given.body.bridge).toBe("unatbr2");
  });

  test("findNetwork gives the record the VM code uses", () => {
    expect(findNetwork(core, "unet-v10")).toEqual({
      name: "unet-v10",
      kind: "ovs",
      bridge: "ubr0",
      vlan: 10,
      trunk: null,
      subnet: null,
      created_at: expect.any(String),
      forward: "nat",
      gateway: null,
      dhcp: true,
      dhcp_start: null,
      dhcp_end: null,
      domain: null,
      subnet6: null,
      gateway6: null,
      vni: null,
      description: null,
    });
    expect(() => findNetwork(core, "unet")).toThrow("network unet does not exist");
  });
});

describe("bad input is 400 and creates nothing", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["invalid name", { name: "bad..name", bridge: "ubr0", vlan: 5 }, /network name "bad..name" is invalid/],
    ["unknown field", { name: "unet-x", bridge: "ubr0", vlan: 5, colour: "red" }, /colour/],
    ["vlan 0", { name: "unet-x", bridge: "ubr0", vlan: 0 }, /vlan/],
    ["vlan 4095", { name: "unet-x", bridge: "ubr0", vlan: 4095 }, /vlan/],
    ["vlan not an integer", { name: "unet-x", bridge: "ubr0", vlan: "ten" }, /vlan/],
    ["empty trunk", { name: "unet-x", bridge: "ubr0", trunk: [] }, /trunk/],
    ["trunk tag out of range", { name: "unet-x", bridge: "ubr0", trunk: [10, 5000] }, /trunk/],
    ["trunk tag twice", { name: "unet-x", bridge: "ubr0", trunk: [10, 10] }, /trunk lists a VLAN twice/],
    ["vlan and trunk", { name: "unet-x", bridge: "ubr0", vlan: 1, trunk: [2] }, /not both/],
    ["ovs without bridge", { name: "unet-x", vlan: 5 }, /needs a bridge/],
    ["bridge too long", { name: "unet-x", bridge: "a-very-long-bridge", vlan: 5 }, /bridge name/],
    ["bridge with a slash", { name: "unet-x", bridge: "br/0", vlan: 5 }, /bridge name/],
    ["bridge '..'", { name: "unet-x", bridge: "..", vlan: 5 }, /bridge name/],
    ["subnet on ovs", { name: "unet-x", bridge: "ubr0", subnet: "10.1.0.0/24" }, /subnet applies to nat/],
    ["nat without subnet", { name: "unet-x", mode: "nat" }, /needs a subnet/],
    ["nat with vlan", { name: "unet-x", mode: "nat", subnet: "10.1.0.0/24", vlan: 3 }, /vlan and trunk/],
    ["bad subnet", { name: "unet-x", mode: "nat", subnet: "10.1.0.0/30" }, /IPv4 CIDR/],
    ["not a subnet", { name: "unet-x", mode: "nat", subnet: "nope" }, /IPv4 CIDR/],
    ["unknown mode", { name: "unet-x", mode: "bridge", bridge: "ubr0" }, /mode/],
    ["missing name", { bridge: "ubr0", vlan: 5 }, /name/],
  ];
  for (const [what, body, message] of cases) {
    test(what, async () => {
      expectError(await api.post("/v1/networks", body), 400, message);
      expect((await libvirtNets(core)).has("unet-x")).toBe(false);
      expect((await api.get("/v1/networks/unet-x")).status).toBe(404);
    });
  }
  test("malformed JSON", async () => {
    const r = await api.raw("POST", "/v1/networks", "{");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_json");
  });
});

describe("conflicts are 409", () => {
  test("a name berth already has", async () => {
    expectError(
      await api.post("/v1/networks", { name: "unet-v10", bridge: "ubr0", vlan: 11 }),
      409,
      /network unet-v10 already exists/,
    );
  });
  test("a libvirt network berth does not own (the test driver's default)", async () => {
    expectError(
      await api.post("/v1/networks", { name: "default", bridge: "ubr0", vlan: 12 }),
      409,
      /libvirt network named default exists and is not berth's/,
    );
    expect((await libvirtNets(core)).get("default")?.persistent).toBe(true);
  });
  test("a NAT bridge another network uses, either way round", async () => {
    expectError(
      await api.post("/v1/networks", { name: "unet-y", mode: "nat", subnet: "10.90.0.0/24", bridge: "ubr0" }),
      409,
      /bridge ubr0 is already used by network unet-/,
    );
    expectError(
      await api.post("/v1/networks", { name: "unet-y", bridge: "unatbr2", vlan: 7 }),
      409,
      /bridge unatbr2 is already used by network unet-nat2/,
    );
  });
  test("a subnet overlapping another NAT network's", async () => {
    expectError(
      await api.post("/v1/networks", { name: "unet-y", mode: "nat", subnet: "10.78.200.0/24" }),
      409,
      /overlaps 10.78.0.0\/16 of network unet-nat2/,
    );
  });
});

test("two creates of one name at once: one wins, the other is 409 (creates run one at a time)", async () => {
  const body = { name: "unet-race", bridge: "ubr0", vlan: 77 };
  const [a, b] = await Promise.all([api.post("/v1/networks", body), api.post("/v1/networks", body)]);
  expect([a.status, b.status].sort()).toEqual([201, 409]);
  expect((await api.delete("/v1/networks/unet-race")).status).toBe(204);
});

describe("read", () => {
  test("list shows berth's networks only, by name, with libvirt state", async () => {
    const r = await api.get("/v1/networks");
    expect(r.status).toBe(200);
    const names = r.body.map((n: { name: string }) => n.name);
    expect(names).toEqual(["unet-flat", "unet-nat", "unet-nat2", "unet-trunk", "unet-v10"]);
    expect(r.body.every((n: { active: boolean; autostart: boolean }) => n.active && n.autostart)).toBe(true);
  });
  test("show one; an unknown one is 404; names match exactly", async () => {
    expect((await api.get("/v1/networks/unet-nat")).body).toMatchObject({ name: "unet-nat", kind: "nat" });
    expectError(await api.get("/v1/networks/unet-na"), 404, /network unet-na does not exist/);
    expectError(await api.get("/v1/networks/default"), 404);
  });
  test("a libvirt network removed behind berth's back shows as not defined", async () => {
    await createNetwork(core, SYSTEM, { name: "unet-gone", bridge: "ubr0", vlan: 99 });
    await core.hv.call("network.destroy", { name: "unet-gone" });
    await core.hv.call("network.undefine", { name: "unet-gone" });
    expect((await api.get("/v1/networks/unet-gone")).body).toMatchObject({
      defined: false,
      active: false,
      autostart: false,
      persistent: false,
    });
    expect((await api.delete("/v1/networks/unet-gone")).status).toBe(204);
    expect((await api.get("/v1/networks/unet-gone")).status).toBe(404);
  });
});

describe("delete", () => {
  test("refused while a VM has a NIC on it (exact name), then allowed", async () => {
    const at = new Date().toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
         VALUES ('unet-vm-id', 'unet-vm', 'stopped', 1, 64, '{"mode":"disk"}', ?, ?)`,
      )
      .run(at, at);
    core.db
      .query("INSERT INTO vm_nics (vm_id, idx, network, mac) VALUES (?, 0, ?, ?)")
      .run("unet-vm-id", "unet-trunk", "52:54:00:00:00:01");
    expectError(await api.delete("/v1/networks/unet-trunk"), 409, /network unet-trunk is used by vm unet-vm/);
    expect((await libvirtNets(core)).get("unet-trunk")?.active).toBe(true);
    core.db.query("DELETE FROM vms WHERE id = 'unet-vm-id'").run();
    expect((await api.delete("/v1/networks/unet-trunk")).status).toBe(204);
  });

  test("refused while a profile names it", async () => {
    expect((await api.post("/v1/profiles", { name: "unet-prof", networks: ["unet-flat"] })).status).toBe(201);
    expectError(await api.delete("/v1/networks/unet-flat"), 409, /used by profile unet-prof/);
    expect((await api.delete("/v1/profiles/unet-prof")).status).toBe(204);
    expect((await api.delete("/v1/networks/unet-flat")).status).toBe(204);
  });

  test("stops and undefines the libvirt network and forgets it", async () => {
    const r = await api.delete("/v1/networks/unet-nat");
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expect((await libvirtNets(core)).has("unet-nat")).toBe(false);
    expectError(await api.get("/v1/networks/unet-nat"), 404);
    // The name is free again.
    expect(
      (await api.post("/v1/networks", { name: "unet-nat", mode: "nat", subnet: "10.77.3.0/24" })).status,
    ).toBe(201);
  });

  test("an unknown network is 404; a libvirt network berth does not own is never touched", async () => {
    expectError(await api.delete("/v1/networks/unet-none"), 404, /network unet-none does not exist/);
    expectError(await api.delete("/v1/networks/default"), 404);
    expect((await libvirtNets(core)).has("default")).toBe(true);
  });
});

describe("a failed step undoes the earlier ones", () => {
  for (const step of ["define", "start", "autostart", "record"] as const) {
    test(`failure at ${step}`, async () => {
      const name = `unet-fail-${step}`;
      const err = createNetwork(
        core,
        SYSTEM,
        { name, mode: "nat", subnet: "10.200.0.0/24" },
        {
          before: (s) => {
            if (s === step) throw new Error(`injected failure at ${s}`);
          },
        },
      );
      await expect(err).rejects.toThrow(`network ${name}: `);
      expect((await libvirtNets(core)).has(name)).toBe(false);
      expect(() => findNetwork(core, name)).toThrow("does not exist");
    });
  }
});

test("a failed step's error keeps its status, code and details, with berth's context", () => {
  const libvirt = (code: number) =>
    new HypervisorError("operation failed: boom", { details: { op: "network.define", libvirtCode: code } });
  const e = withContext("network n: defining", libvirt(ErrorCode.OPERATION_INVALID));
  expect(e).toMatchObject({
    httpStatus: 502,
    errorCode: "hypervisor_error",
    message: "network n: defining: operation failed: boom",
  });
  expect(e.details).toEqual({ op: "network.define", libvirtCode: ErrorCode.OPERATION_INVALID });
  expect(e.cause).toBeInstanceOf(HypervisorError);
  expect(withContext("network n: defining", libvirt(ErrorCode.NETWORK_EXIST)).httpStatus).toBe(409);
  const plain = withContext("network n: starting", new Error("bug"));
  expect(plain).toBeInstanceOf(AppError);
  expect(plain.httpStatus).toBe(500);
});
