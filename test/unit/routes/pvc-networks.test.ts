// PVC's network, DHCP and ACL endpoints on the test driver (ACLs on real nftables, in a table of this test's own).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { startPvcAcls } from "../../../src/core/fronts/pvc-acls.ts";
import { listTable } from "../../../src/core/net/nft.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await cond()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Core = Awaited<ReturnType<typeof testCore>>;
const TABLE = `bu${process.pid}`;
let core: Core;
let send: (
  method: string,
  path: string,
  fields?: Record<string, string>,
) => Promise<{ status: number; body: Json }>;

const post = (path: string, fields: Record<string, string> = {}) => send("POST", `/api/v1${path}`, fields);
const get = (path: string) => send("GET", `/api/v1${path}`);
const netXml = (name: string) => core.hv.call("network.xml", { name });
const table = () => listTable("inet", TABLE);

beforeAll(async () => {
  core = await testCore(
    testConfig(`[pvc]\nlisten = "127.0.0.1:1"\nacl_table = "${TABLE}"\n[network]\nmanage_bridges = false\n`),
  );
  const plan = listenerPlan(core.config).find((l) => l.fronts.some((f) => f.front === "pvc"));
  const app = createApp(core, plan);
  send = async (method, path, fields) => {
    const init: RequestInit = { method };
    if (fields) {
      init.body = new URLSearchParams(fields).toString();
      init.headers = { "content-type": "application/x-www-form-urlencoded" };
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
});
afterAll(async () => {
  for (const t of [TABLE, `${TABLE}x`])
    Bun.spawnSync(["nft", "delete", "table", "inet", t], { stderr: "ignore" });
  await core.close();
});

const MANAGED = {
  vni: "200",
  nettype: "managed",
  ip4_network: "10.200.0.0/24",
  ip4_gateway: "10.200.0.1",
  flag_dhcp4: "",
  dhcp4_start: "10.200.0.100",
  dhcp4_end: "10.200.0.199",
  ip6_network: "fd00:200::/64",
};

describe("networks", () => {
  test("a bridged network is an OVS VLAN network: the VNI as tag on [pvc] bridge, in PVC's shape", async () => {
    expect(await post("/network/vlan100/add", { vni: "100", nettype: "bridged", domain: "ignored" })).toEqual(
      {
        status: 200,
        body: { message: "Network 'vlan100' added successfully!" },
      },
    );
    const xml = await netXml("pvc-100");
    expect(xml).toContain("<bridge name='br0'/>");
    expect(xml).toContain("<virtualport type='openvswitch'/>");
    expect(xml).toContain("<tag id='100'/>");
    expect((await get("/network/vlan100")).body).toEqual([
      {
        vni: "100",
        description: "vlan100",
        type: "bridged",
        domain: "None",
        ip6: { network: "None", gateway: "None", dhcp_flag: "False" },
        ip4: { network: "None", gateway: "None", dhcp_flag: "False", dhcp_start: "None", dhcp_end: "None" },
      },
    ]);
  });

  test("a managed network is routed by libvirt with PVC's gateway, DHCP range, domain and IPv6", async () => {
    expect(await post("/network/lan200/add", MANAGED)).toEqual({
      status: 200,
      body: { message: "Network 'lan200' added successfully!" },
    });
    const xml = await netXml("pvc-200");
    expect(xml).toContain("<forward mode='route'/>");
    expect(xml).toContain("<bridge name='vmbr200' stp='on' delay='0'/>");
    expect(xml).toContain("<domain name='lan200.local' localOnly='yes'/>");
    expect(xml).toContain("<ip address='10.200.0.1' netmask='255.255.255.0'>");
    expect(xml).toContain("<range start='10.200.0.100' end='10.200.0.199'/>");
    expect(xml).toContain("<ip family='ipv6' address='fd00:200::1' prefix='64'>");
    const one = await get("/network/200");
    expect(one.body).toEqual([
      {
        vni: "200",
        description: "lan200",
        type: "managed",
        domain: "lan200.local",
        ip6: { network: "fd00:200::/64", gateway: "fd00:200::1", dhcp_flag: "True" },
        ip4: {
          network: "10.200.0.0/24",
          gateway: "10.200.0.1",
          dhcp_flag: "True",
          dhcp_start: "10.200.0.100",
          dhcp_end: "10.200.0.199",
        },
      },
    ]);
  });

  test("the list: limit as PVC's fuzzy regex on vni or description, each network once; unknown is []", async () => {
    const all = await get("/network");
    expect(all.body.map((n: Json) => n.vni)).toEqual(["100", "200"]);
    expect((await get("/network?limit=%5Elan")).body.map((n: Json) => n.vni)).toEqual(["200"]);
    expect((await get("/network?limit=%5E1")).body.map((n: Json) => n.vni)).toEqual(["100"]);
    expect((await get("/network?limit=0")).body.map((n: Json) => n.vni)).toEqual(["100", "200"]);
    expect(await get("/network/nosuch")).toEqual({ status: 200, body: [] });
    expect(await get("/network/lan")).toEqual({ status: 200, body: [] });
    const bad = await get("/network?limit=(");
    expect(bad.status).toBe(510);
    expect(bad.body.message).toStartWith("ERROR: Regex Error");
  });

  test("mandatory values are 520, PVC's refusals 510, and nothing is created", async () => {
    const before = (await core.hv.call("network.list", {})).length;
    expect((await post("/network/x/add", { nettype: "bridged" })).status).toBe(520);
    expect((await post("/network/x/add", { vni: "5" })).status).toBe(520);
    expect((await post("/network/x/add", { vni: "5", nettype: "vxlan" })).status).toBe(520);
    expect(await post("/network/x/add", { vni: "100", nettype: "bridged" })).toEqual({
      status: 510,
      body: { message: "ERROR: A network with VNI '100' already exists!" },
    });
    expect(await post("/network/lan200/add", { vni: "7", nettype: "bridged" })).toEqual({
      status: 510,
      body: { message: "ERROR: A network with description 'lan200' already exists!" },
    });
    const { dhcp4_end: _, ...noEnd } = MANAGED;
    expect(
      await post("/network/x/add", {
        ...noEnd,
        vni: "8",
        ip4_network: "10.8.0.0/24",
        ip4_gateway: "10.8.0.1",
      }),
    ).toEqual({
      status: 510,
      body: { message: "ERROR: DHCPv4 start and end addresses are required for a DHCPv4-enabled network." },
    });
    expect(
      (await post("/network/x/add", { vni: "9", nettype: "managed", ip4_network: "10.9.0.0/24" })).status,
    ).toBe(510);
    expect((await post("/network/x/add", { vni: "5000", nettype: "bridged" })).status).toBe(510);
    expect((await post("/network/a%20b/add", { vni: "10", nettype: "bridged" })).status).toBe(510);
    expect((await core.hv.call("network.list", {})).length).toBe(before);
  });

  test("modify changes only what is given (redefined in libvirt); vni and nettype changes are refused", async () => {
    const r = await post("/network/lan200/modify", {
      flag_dhcp4: "",
      dhcp4_start: "10.200.0.50",
      dhcp4_end: "10.200.0.60",
    });
    expect(r).toEqual({ status: 200, body: { message: "Network 'lan200' modified successfully!" } });
    const xml = await netXml("pvc-200");
    expect(xml).toContain("<range start='10.200.0.50' end='10.200.0.60'/>");
    expect(xml).toContain("<domain name='lan200.local' localOnly='yes'/>");
    expect((await get("/network/lan200")).body[0].ip4.dhcp_start).toBe("10.200.0.50");
    expect((await post("/network/lan200/modify", { vni: "201" })).status).toBe(510);
    expect((await post("/network/lan200/modify", { nettype: "bridged" })).status).toBe(510);
    expect((await post("/network/nosuch/modify", { domain: "x.y" })).body).toEqual({
      message: "ERROR: Could not find network 'nosuch' in the cluster!",
    });
  });
});

describe("DHCP reservations", () => {
  const MAC = "52:54:00:AA:BB:01";
  test("add writes a <host> into the libvirt network and lists as static; remove takes it out", async () => {
    expect(
      await post(`/network/lan200/dhcp/${MAC}/add`, { ipaddress: "10.200.0.10", hostname: "web1" }),
    ).toEqual({
      status: 200,
      body: { message: `DHCP reservation '${MAC}' added successfully!` },
    });
    expect(await netXml("pvc-200")).toContain("<host mac='52:54:00:aa:bb:01' name='web1' ip='10.200.0.10'/>");
    const lease = {
      hostname: "web1",
      ip4_address: "10.200.0.10",
      mac_address: "52:54:00:aa:bb:01",
      timestamp: "static",
    };
    expect((await get("/network/lan200/dhcp")).body).toEqual([lease]);
    expect((await get("/network/lan200/dhcp?flag_static")).body).toEqual([lease]);
    expect((await get("/network/lan200/dhcp?limit=bb:01")).body).toEqual([lease]);
    expect((await get("/network/lan200/dhcp?limit=ff")).body).toEqual([]);
    expect((await get(`/network/lan200/dhcp/${MAC}`)).body).toEqual([lease]);
    expect(await get("/network/lan200/dhcp/52:54:00:aa:bb:99")).toEqual({ status: 200, body: [] });

    expect(await post(`/network/lan200/dhcp/${MAC}/add`, { ipaddress: "10.200.0.11" })).toEqual({
      status: 510,
      body: { message: `ERROR: A reservation with MAC '${MAC}' already exists!` },
    });
    expect((await post(`/network/lan200/dhcp/${MAC}/add`, {})).status).toBe(520);
    expect(await post("/network/lan200/dhcp/52-54-00-aa-bb-02/add", { ipaddress: "10.200.0.12" })).toEqual({
      status: 510,
      body: {
        message: "ERROR: MAC address '52-54-00-aa-bb-02' is not valid! Always use ':' as a separator.",
      },
    });
    expect((await post("/network/lan200/dhcp/52:54:00:aa:bb:03/add", { ipaddress: "10.9.9.9" })).status).toBe(
      510,
    );
    expect(
      (await post("/network/lan200/dhcp/52:54:00:aa:bb:03/add", { ipaddress: "10.200.0.10" })).status,
    ).toBe(510);
    expect(
      (await post("/network/vlan100/dhcp/52:54:00:aa:bb:03/add", { ipaddress: "10.200.0.3" })).status,
    ).toBe(510);
    expect((await get("/network/nosuch/dhcp")).status).toBe(510);

    expect(await post(`/network/lan200/dhcp/${MAC}/remove`)).toEqual({
      status: 200,
      body: { message: `DHCP reservation '${MAC}' removed successfully!` },
    });
    expect(await netXml("pvc-200")).not.toContain("<host ");
    expect((await get("/network/lan200/dhcp")).body).toEqual([]);
    expect(await post(`/network/lan200/dhcp/${MAC}/remove`)).toEqual({
      status: 510,
      body: { message: `ERROR: No DHCP reservation exists matching '${MAC}'!` },
    });
  });
});

describe("ACLs", () => {
  test("rules go into the network's chain per direction, in order, hooked on its bridge", async () => {
    expect(await table()).toBeNull();
    expect(
      await post("/network/lan200/acl/no-http/add", { direction: "in", rule: "tcp dport 8080 drop" }),
    ).toEqual({
      status: 200,
      body: { message: "Firewall rule 'no-http' added successfully!" },
    });
    await post("/network/lan200/acl/first/add", { direction: "in", rule: "tcp dport 22 accept", order: "1" });
    await post("/network/lan200/acl/replies/add", { direction: "out", rule: "udp sport 53 counter" });
    const listed = await table();
    const bridge = (/<bridge name='([^']+)'/.exec(await netXml("pvc-200")) ?? [])[1] as string;
    expect(listed).toContain(`oifname "${bridge}" jump vni200_in`);
    expect(listed).toContain(`iifname "${bridge}" jump vni200_out`);
    const inChain = listed?.slice(listed.indexOf("chain vni200_in")) ?? "";
    expect(inChain.indexOf("tcp dport 22 accept")).toBeLessThan(inChain.indexOf("tcp dport 8080 drop"));
    expect((await get("/network/lan200/acl")).body).toEqual([
      { direction: "in", order: "1", description: "first", rule: "tcp dport 22 accept" },
      { direction: "in", order: "2", description: "no-http", rule: "tcp dport 8080 drop" },
      { direction: "out", order: "1", description: "replies", rule: "udp sport 53 counter" },
    ]);
    expect((await get("/network/lan200/acl?direction=out")).body.map((a: Json) => a.description)).toEqual([
      "replies",
    ]);
    expect((await get("/network/lan200/acl?limit=^no")).body.map((a: Json) => a.description)).toEqual([
      "no-http",
    ]);
    expect((await get("/network/lan200/acl/first")).body.map((a: Json) => a.description)).toEqual(["first"]);
    expect(await get("/network/lan200/acl/fir")).toEqual({ status: 200, body: [] });
    expect((await get("/network/lan200/acl?direction=up")).status).toBe(510);
    expect((await get("/network/nosuch/acl")).status).toBe(510);
  });

  test("a rule nft refuses, or one that could leave its chain, is 510 and changes nothing", async () => {
    const before = await table();
    const bad = await post("/network/lan200/acl/bad/add", { direction: "in", rule: "tcp dport drop" });
    expect(bad.status).toBe(510);
    expect(bad.body.message).toStartWith("ERROR: nftables refused the rules");
    for (const rule of [
      "tcp dport 1 drop; delete table inet filter",
      "tcp dport 1 drop\nflush ruleset",
      "tcp dport 1 drop } chain x {",
      "tcp dport 1 drop\rflush ruleset",
      "tcp dport 1 drop\vflush ruleset",
    ]) {
      expect((await post("/network/lan200/acl/evil/add", { direction: "in", rule })).status).toBe(510);
    }
    // nft would accept this as two commands: the second must never run.
    const sneaky = await post("/network/lan200/acl/sneaky/add", {
      direction: "in",
      rule: `counter; add table inet ${TABLE}x`,
    });
    expect(sneaky.status).toBe(510);
    expect(await listTable("inet", `${TABLE}x`)).toBeNull();
    expect((await post("/network/lan200/acl/nodir/add", { rule: "drop" })).status).toBe(510);
    expect((await post("/network/lan200/acl/norule/add", { direction: "in" })).status).toBe(510);
    expect((await post("/network/lan200/acl/x/add", { direction: "sideways", rule: "drop" })).status).toBe(
      510,
    );
    expect((await post("/network/lan200/acl/first/add", { direction: "in", rule: "drop" })).body).toEqual({
      message: "ERROR: A rule with description 'first' already exists!",
    });
    expect((await post("/network/vlan100/acl/x/add", { direction: "in", rule: "drop" })).status).toBe(510);
    expect(await table()).toBe(before);
    expect((await get("/network/lan200/acl")).body.length).toBe(3);
  });

  test("the recorded rules are put back at start when nftables lost them (a reboot, a flush)", async () => {
    const before = await table();
    Bun.spawnSync(["nft", "delete", "table", "inet", TABLE]);
    expect(await table()).toBeNull();
    const stop = startPvcAcls(core);
    try {
      await waitFor(async () => (await table()) !== null, 5_000, "the table restored");
      expect(await table()).toBe(before);
    } finally {
      stop();
    }
  });

  test("remove takes a rule out; removing the network takes its chains (and the empty table) away", async () => {
    expect(await post("/network/lan200/acl/first/remove")).toEqual({
      status: 200,
      body: { message: "Firewall rule 'first' removed successfully!" },
    });
    expect(await table()).not.toContain("tcp dport 22 accept");
    expect((await get("/network/lan200/acl")).body.map((a: Json) => [a.description, a.order])).toEqual([
      ["no-http", "1"],
      ["replies", "1"],
    ]);
    expect(await post("/network/lan200/acl/first/remove")).toEqual({
      status: 510,
      body: { message: "ERROR: No firewall rule exists matching description 'first'!" },
    });
    expect(await post("/network/lan200/remove")).toEqual({
      status: 200,
      body: { message: "Network 'lan200' removed successfully!" },
    });
    expect(await table()).toBeNull();
    expect((await core.hv.call("network.list", {})).some((n) => n.name === "pvc-200")).toBe(false);
    expect((await post("/network/vlan100/remove")).status).toBe(200);
    expect(await get("/network")).toEqual({ status: 200, body: [] });
    expect((await post("/network/vlan100/remove")).status).toBe(510);
  });
});
