// The staging agent's /networks on the test driver: OVS + VLAN, persistent, listed when inactive, every status.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fromXml } from "../../../src/xml/codec.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  // The test driver has no Open vSwitch: berth assumes the bridges exist.
  core = await testCore(testConfig('[network]\nmanage_bridges = false\n[storage]\npool = "stg-nets"'));
  api = apiClient(core);
});
afterAll(() => core.close());

const libvirtNet = async (name: string) =>
  (await core.hv.call("network.list", {})).find((n) => n.name === name);
const expectError = (r: Reply, status: number, message?: RegExp) => {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(typeof r.body.error).toBe("string");
  if (message) expect(r.body.error).toMatch(message);
};

describe("POST /networks/:network", () => {
  test("the document's example is 201: a persistent, autostarted OVS network tagged with the VLAN", async () => {
    const r = await api.post("/networks/stgn_example_com_vlan_10", { bridge: "stgbr0", vlan: 10 });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: "stgn_example_com_vlan_10",
      state: "active",
      autostart: "yes",
      persistent: "yes",
    });
    const berth = "stgn_example_com_vlan_10"; // libvirt's name is the agent's, verbatim
    expect(await libvirtNet(berth)).toEqual({ name: berth, active: true, autostart: true, persistent: true });
    const xml = fromXml(await core.hv.call("network.xml", { name: berth })) as {
      network: Record<string, Record<string, unknown>>;
    };
    expect(xml.network.forward?.["@mode"]).toBe("bridge");
    expect(xml.network.bridge?.["@name"]).toBe("stgbr0");
    expect(xml.network.virtualport?.["@type"]).toBe("openvswitch");
    expect(xml.network.vlan).toEqual({ tag: { "@id": "10" } });
    // The native API shows the same network under the same name.
    expect((await api.get(`/v1/networks/${berth}`)).body).toMatchObject({
      kind: "ovs",
      bridge: "stgbr0",
      vlan: 10,
    });
  });

  test("a DNS-label name is used as it is", async () => {
    expect((await api.post("/networks/stgn-plain", { bridge: "stgbr0", vlan: 20 })).status).toBe(201);
    expect(await libvirtNet("stgn-plain")).toMatchObject({ persistent: true });
  });

  test("409 when the network exists", async () => {
    expectError(
      await api.post("/networks/stgn_example_com_vlan_10", { bridge: "stgbr0", vlan: 11 }),
      409,
      /exists/,
    );
    expectError(await api.post("/networks/stgn-plain", { bridge: "stgbr1", vlan: 20 }), 409, /exists/);
  });

  test("malformed JSON, missing or wrongly typed fields are 400 and create nothing", async () => {
    const before = (await api.get("/networks")).body.length;
    for (const raw of ["{bad", "", '{"bridge":"b"']) {
      expectError(await api.raw("POST", "/networks/stgn-bad", raw), 400, /not valid JSON/);
    }
    const cases: [unknown, RegExp][] = [
      [{ vlan: 10 }, /bridge/],
      [{ bridge: "stgbr0" }, /vlan/],
      [{ bridge: "stgbr0", vlan: "ten" }, /vlan/],
      [{ bridge: "stgbr0", vlan: 0 }, /vlan/],
      [{ bridge: "stgbr0", vlan: 4095 }, /vlan/],
      [{ bridge: "stgbr0", vlan: 1.5 }, /vlan/],
      [{ bridge: 7, vlan: 10 }, /bridge/],
      [{ bridge: "", vlan: 10 }, /bridge/],
      [{ bridge: "a b", vlan: 10 }, /bridge name "a b" is invalid/],
      [{ bridge: "br;reboot", vlan: 10 }, /bridge name/],
      [{ bridge: "stgbr0", vlan: 10, mode: "nat" }, /mode/],
      [null, /bridge/],
    ];
    for (const [b, msg] of cases) expectError(await api.post("/networks/stgn-bad", b), 400, msg);
    expectError(await api.post("/networks/stgn%20bad", { bridge: "stgbr0", vlan: 10 }), 400, /invalid/);
    expect((await api.get("/networks")).body.length).toBe(before);
    expect(await libvirtNet("stgn-bad")).toBeUndefined();
  });
});

describe("GET /networks and /networks/:network", () => {
  test("lists every network with name, state, autostart and persistent, inactive ones too", async () => {
    expect((await api.post("/networks/stgn.idle", { bridge: "stgbr0", vlan: 30 })).status).toBe(201);
    // Stopped behind berth's back (the agent's transient networks vanished here): still listed.
    await core.hv.call("network.destroy", { name: "stgn.idle" });
    const r = await api.get("/networks");
    expect(r.status).toBe(200);
    const byName = new Map(r.body.map((n: { name: string }) => [n.name, n]));
    expect(byName.get("stgn.idle")).toEqual({
      name: "stgn.idle",
      state: "inactive",
      autostart: "yes",
      persistent: "yes",
    });
    expect(byName.get("stgn_example_com_vlan_10")).toMatchObject({ state: "active" });
    expect(byName.get("stgn-plain")).toMatchObject({ state: "active" });
  });

  test("200 with the network; 404 for an unknown or impossible name", async () => {
    const r = await api.get("/networks/stgn_example_com_vlan_10");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      name: "stgn_example_com_vlan_10",
      state: "active",
      autostart: "yes",
      persistent: "yes",
    });
    expect((await api.get("/networks/stgn.idle")).body.state).toBe("inactive");
    expectError(await api.get("/networks/stgn_nope"), 404, /network stgn_nope does not exist/);
    expectError(await api.get("/networks/a%20b"), 404);
  });
});

describe("DELETE /networks/:network", () => {
  test("409 while a host uses it; 204 once it does not; then 404", async () => {
    const host = await api.post("/hosts/stgn-host.example.com", {
      memory: 128,
      disks: [1],
      networks: ["stgn_example_com_vlan_10"],
    });
    expect(host.status).toBe(201);
    expectError(await api.delete("/networks/stgn_example_com_vlan_10"), 409, /used by/);
    expect((await api.delete("/hosts/stgn-host.example.com")).status).toBe(204);
    const r = await api.delete("/networks/stgn_example_com_vlan_10");
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expect(await libvirtNet("stgn_example_com_vlan_10")).toBeUndefined();
    expectError(await api.get("/networks/stgn_example_com_vlan_10"), 404);
    expectError(await api.delete("/networks/stgn_example_com_vlan_10"), 404, /does not exist/);
  });

  test("an inactive network is deleted too; 404 for an impossible name", async () => {
    expect((await api.delete("/networks/stgn.idle")).status).toBe(204);
    expect((await api.delete("/networks/stgn-plain")).status).toBe(204);
    expectError(await api.delete("/networks/a%20b"), 404);
  });
});

test("the staging routes are in the OpenAPI document with their verbs", async () => {
  const doc = (await api.get("/openapi.json")).body;
  const verbs = (p: string) => Object.keys(doc.paths[p] ?? {}).sort();
  expect(verbs("/hosts")).toEqual(["get"]);
  expect(verbs("/hosts/{host}")).toEqual(["delete", "get", "post"]);
  expect(verbs("/hosts/{host}/start")).toEqual(["put"]);
  expect(verbs("/networks")).toEqual(["get"]);
  expect(verbs("/networks/{network}")).toEqual(["delete", "get", "post"]);
  // Every operation also has a `default` error response in the agent's shape (src/routes/docs-document.ts).
  const statuses = (p: string, verb: string) =>
    Object.keys(doc.paths[p][verb].responses)
      .filter((s) => s !== "default")
      .sort();
  expect(statuses("/hosts/{host}", "post")).toEqual(["201", "400", "409"]);
  expect(statuses("/hosts/{host}", "get")).toEqual(["200", "404"]);
  expect(statuses("/hosts/{host}", "delete")).toEqual(["204", "404", "409"]);
  expect(statuses("/hosts/{host}/start", "put")).toEqual(["204", "404", "409"]);
  expect(statuses("/networks/{network}", "post")).toEqual(["201", "400", "409"]);
  expect(statuses("/networks/{network}", "get")).toEqual(["200", "404"]);
  expect(statuses("/networks/{network}", "delete")).toEqual(["204", "404", "409"]);
});
