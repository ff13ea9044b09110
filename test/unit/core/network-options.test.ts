// A libvirt-managed network's options: checks (pure), their libvirt XML, and reservations put back at start (test driver).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/index.ts";
import { restoreDhcpHosts } from "../../../src/core/networks/dhcp-restore.ts";
import { addDhcpHost, createNetwork } from "../../../src/core/networks/index.ts";
import { planOptions } from "../../../src/core/networks/options.ts";
import { BadRequest } from "../../../src/errors.ts";
import { buildDhcpHostXml, buildNetworkXml } from "../../../src/xml/network.ts";
import { testConfig, testCore } from "../../support/core.ts";

test("options are checked against the subnet; ovs networks take only vni and description", () => {
  const s = "10.5.0.0/24";
  expect(
    planOptions("nat", s, { gateway: "10.5.0.254", dhcp_start: "10.5.0.10", dhcp_end: "10.5.0.20" }),
  ).toMatchObject({
    gateway: "10.5.0.254",
    dhcp: 1,
    dhcp_start: "10.5.0.10",
    dhcp_end: "10.5.0.20",
  });
  expect(planOptions("nat", s, { subnet6: "fd00:5::/64" })).toMatchObject({
    subnet6: "fd00:5::/64",
    gateway6: "fd00:5::1",
  });
  expect(planOptions("ovs", null, { vni: 10, description: "v10" })).toMatchObject({
    vni: 10,
    description: "v10",
  });
  for (const bad of [
    () => planOptions("nat", s, { gateway: "10.6.0.1" }),
    () => planOptions("nat", s, { gateway: "10.5.0.0" }),
    () => planOptions("nat", s, { gateway: "10.5.0.255" }),
    () => planOptions("nat", s, { dhcp_start: "10.5.0.10" }),
    () => planOptions("nat", s, { dhcp_start: "10.5.0.30", dhcp_end: "10.5.0.20" }),
    () => planOptions("nat", s, { dhcp: false, dhcp_start: "10.5.0.10", dhcp_end: "10.5.0.20" }),
    () => planOptions("nat", s, { domain: "bad domain" }),
    () => planOptions("nat", s, { subnet6: "10.5.0.0/24" }),
    () => planOptions("nat", s, { gateway6: "fd00::1" }),
    () => planOptions("nat", s, { vni: 0 }),
    () => planOptions("nat", s, { description: "has space" }),
    () => planOptions("ovs", null, { gateway: "10.5.0.1" }),
  ]) {
    expect(bad).toThrow(BadRequest);
  }
});

test("a routed network's XML: forward route, gateway, range, reservations, domain and IPv6", () => {
  expect(
    buildNetworkXml({
      kind: "nat",
      name: "lab",
      bridge: "virbr-lab",
      subnet: "10.5.0.0/24",
      forward: "route",
      gateway: "10.5.0.254",
      dhcpStart: "10.5.0.10",
      dhcpEnd: "10.5.0.20",
      domain: "lab.local",
      subnet6: "fd00:5::/64",
      gateway6: "fd00:5::1",
      hosts: [{ mac: "52:54:00:00:00:01", ip: "10.5.0.5", hostname: "web" }],
    }),
  ).toBe(`<network>
  <name>lab</name>
  <forward mode="route"/>
  <bridge name="virbr-lab" stp="on" delay="0"/>
  <domain name="lab.local" localOnly="yes"/>
  <ip address="10.5.0.254" netmask="255.255.255.0">
    <dhcp>
      <range start="10.5.0.10" end="10.5.0.20"/>
      <host mac="52:54:00:00:00:01" ip="10.5.0.5" name="web"/>
    </dhcp>
  </ip>
  <ip family="ipv6" address="fd00:5::1" prefix="64"/>
</network>
`);
  expect(
    buildNetworkXml({ kind: "nat", name: "n", bridge: "b", subnet: "10.5.0.0/24", dhcp: false }),
  ).not.toContain("<dhcp>");
  expect(buildDhcpHostXml({ mac: "52:54:00:00:00:01", ip: "10.5.0.5" })).toBe(
    '<host mac="52:54:00:00:00:01" ip="10.5.0.5"/>',
  );
});

let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(testConfig());
});
afterAll(() => core.close());

test("a reservation libvirt lost is put back at start from berth's records; one it holds is left alone", async () => {
  await createNetwork(core, SYSTEM, { name: "uopt-r", mode: "nat", subnet: "10.77.9.0/24" });
  await addDhcpHost(core, SYSTEM, "uopt-r", { mac: "52:54:00:00:00:07", ip: "10.77.9.7", hostname: "h7" });
  const host = buildDhcpHostXml({ mac: "52:54:00:00:00:07", ip: "10.77.9.7", hostname: "h7" });
  expect(await restoreDhcpHosts(core)).toEqual([]);
  await core.hv.call("network.dhcpHost", { name: "uopt-r", op: "delete", xml: host });
  expect(await core.hv.call("network.xml", { name: "uopt-r" })).not.toContain("52:54:00:00:00:07");
  expect(await restoreDhcpHosts(core)).toEqual(["52:54:00:00:00:07"]);
  expect(await core.hv.call("network.xml", { name: "uopt-r" })).toContain(
    "<host mac='52:54:00:00:00:07' name='h7' ip='10.77.9.7'/>",
  );
});
