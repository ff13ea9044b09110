// Networks on real libvirtd + Open vSwitch (netdev datapath): persistent, autostarted, bridges managed, undo on failure.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../src/core/auth/access.ts";
import { createNetwork } from "../../src/core/networks/index.ts";
import { apiClient } from "../support/api.ts";
import { testConfig, testCore } from "../support/core.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";

const id = `${process.pid}`;
const N = {
  vlan: `berth-itn-v-${id}`,
  trunk: `berth-itn-t-${id}`,
  nat: `berth-itn-n-${id}`,
  fail: `berth-itn-f-${id}`,
  own: `berth-itn-o-${id}`,
};
const BR = {
  managed: `bitm${id}`.slice(0, 15),
  failed: `bitf${id}`.slice(0, 15),
  foreign: `bito${id}`.slice(0, 15),
  nat: `bitn${id}`.slice(0, 15),
};
const SUBNET = `10.213.${Number(id) % 250}.0/24`;

const virsh = (...args: string[]) => run(["virsh", "-c", SYSTEM_URI, ...args]);
const ovs = (...args: string[]) => run(["ovs-vsctl", "--timeout=10", ...args]);
const bridgeExists = (br: string) => ovs("br-exists", br).ok;

/** `virsh net-info` as a map: Active, Persistent, Autostart, Bridge. */
function netInfo(name: string): Record<string, string> {
  const r = virsh("net-info", name);
  if (!r.ok) return {};
  return Object.fromEntries(
    r.out
      .split("\n")
      .map((l) => /^(\w+):\s+(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

describe.skipIf(!integrationReady())("networks on libvirtd and Open vSwitch", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    core = await testCore(
      testConfig('[network]\novs_datapath = "netdev"\nmanage_bridges = true', {
        BERTH_HYPERVISOR_URI: SYSTEM_URI,
      }),
    );
    api = apiClient(core);
  });

  afterAll(async () => {
    // Whatever a failed assertion left behind: the networks, then the bridges.
    for (const name of Object.values(N)) {
      if (virsh("net-info", name).ok) {
        virsh("net-destroy", name);
        virsh("net-undefine", name);
      }
    }
    for (const br of Object.values(BR)) ovs("--if-exists", "del-br", br);
    await core?.close();
  });

  test("an OVS VLAN network: the bridge is created (netdev) and the network is persistent and autostarted", async () => {
    expect(bridgeExists(BR.managed)).toBe(false);
    const r = await api.post("/v1/networks", { name: N.vlan, bridge: BR.managed, vlan: 42 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: "ovs", vlan: 42, active: true, autostart: true, persistent: true });
    expect(bridgeExists(BR.managed)).toBe(true);
    expect(ovs("get", "bridge", BR.managed, "datapath_type").out.trim()).toBe("netdev");
    expect(netInfo(N.vlan)).toMatchObject({
      Active: "yes",
      Persistent: "yes",
      Autostart: "yes",
      Bridge: BR.managed,
    });
    const xml = virsh("net-dumpxml", "--inactive", N.vlan).out;
    expect(xml).toContain("<virtualport type='openvswitch'/>");
    expect(xml).toContain("<tag id='42'/>");
  });

  test("a trunk network shares the bridge", async () => {
    const r = await api.post("/v1/networks", { name: N.trunk, bridge: BR.managed, trunk: [100, 200] });
    expect(r.status).toBe(201);
    expect(netInfo(N.trunk)).toMatchObject({ Active: "yes", Persistent: "yes", Autostart: "yes" });
    expect(virsh("net-dumpxml", "--inactive", N.trunk).out).toContain("<vlan trunk='yes'>");
  });

  test("a NAT network with DHCP is persistent, autostarted and listed by virsh", async () => {
    const r = await api.post("/v1/networks", { name: N.nat, mode: "nat", subnet: SUBNET, bridge: BR.nat });
    expect(r.status).toBe(201);
    expect(netInfo(N.nat)).toMatchObject({
      Active: "yes",
      Persistent: "yes",
      Autostart: "yes",
      Bridge: BR.nat,
    });
    const row = virsh("net-list", "--all")
      .out.split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[0] === N.nat);
    expect(row).toEqual([N.nat, "active", "yes", "yes"]);
    const xml = virsh("net-dumpxml", N.nat).out;
    expect(xml).toContain("<forward mode='nat'");
    expect(xml).toMatch(/<range start='10\.213\.\d+\.2' end='10\.213\.\d+\.254'/);
    expect(run(["ip", "link", "show", BR.nat]).ok).toBe(true);
  });

  test("a create failing after the bridge and the define leaves neither behind", async () => {
    const err = createNetwork(
      core,
      SYSTEM,
      { name: N.fail, bridge: BR.failed, vlan: 7 },
      {
        before: (s) => {
          if (s === "start") throw new Error("injected failure at start");
        },
      },
    );
    await expect(err).rejects.toThrow(`network ${N.fail}: starting: injected failure at start`);
    expect(virsh("net-info", N.fail).ok).toBe(false);
    expect(bridgeExists(BR.failed)).toBe(false);
    expect((await api.get(`/v1/networks/${N.fail}`)).status).toBe(404);
  });

  test("the bridge berth created goes with the last network on it, not before", async () => {
    expect((await api.delete(`/v1/networks/${N.vlan}`)).status).toBe(204);
    expect(virsh("net-info", N.vlan).ok).toBe(false);
    expect(bridgeExists(BR.managed)).toBe(true);
    expect((await api.delete(`/v1/networks/${N.trunk}`)).status).toBe(204);
    expect(virsh("net-info", N.trunk).ok).toBe(false);
    expect(bridgeExists(BR.managed)).toBe(false);
  });

  test("a bridge berth did not create stays when its network goes", async () => {
    expect(ovs("add-br", BR.foreign, "--", "set", "bridge", BR.foreign, "datapath_type=netdev").ok).toBe(
      true,
    );
    expect((await api.post("/v1/networks", { name: N.own, bridge: BR.foreign, vlan: 9 })).status).toBe(201);
    expect((await api.delete(`/v1/networks/${N.own}`)).status).toBe(204);
    expect(virsh("net-info", N.own).ok).toBe(false);
    expect(bridgeExists(BR.foreign)).toBe(true);
  });

  test("deleting the NAT network stops and undefines it", async () => {
    expect((await api.delete(`/v1/networks/${N.nat}`)).status).toBe(204);
    expect(virsh("net-info", N.nat).ok).toBe(false);
    expect(virsh("net-list", "--all", "--name").out.split("\n")).not.toContain(N.nat);
    expect(run(["ip", "link", "show", BR.nat]).ok).toBe(false);
  });
});
