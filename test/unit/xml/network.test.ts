// buildNetworkXml against golden XML, and the subnet arithmetic behind NAT networks.
import { expect, test } from "bun:test";
import { buildNetworkXml, parseSubnet } from "../../../src/xml/network.ts";

test("a NAT network with DHCP over the whole subnet", () => {
  expect(
    buildNetworkXml({ kind: "nat", name: "lab", bridge: "virbr-lab", subnet: "192.168.213.0/24" }),
  ).toBe(`<network>
  <name>lab</name>
  <forward mode="nat"/>
  <bridge name="virbr-lab" stp="on" delay="0"/>
  <ip address="192.168.213.1" netmask="255.255.255.0">
    <dhcp>
      <range start="192.168.213.2" end="192.168.213.254"/>
    </dhcp>
  </ip>
</network>
`);
});

test("an OVS network with one VLAN tag, and one with a trunk", () => {
  expect(buildNetworkXml({ kind: "ovs", name: "v10", bridge: "br0", vlan: 10 })).toBe(`<network>
  <name>v10</name>
  <forward mode="bridge"/>
  <bridge name="br0"/>
  <virtualport type="openvswitch"/>
  <vlan>
    <tag id="10"/>
  </vlan>
</network>
`);
  expect(buildNetworkXml({ kind: "ovs", name: "t", bridge: "br0", trunk: [10, 20] })).toContain(
    `<vlan trunk="yes">\n    <tag id="10"/>\n    <tag id="20"/>\n  </vlan>`,
  );
});

test("subnets: gateway, mask and DHCP range; bad input is a RangeError", () => {
  expect(parseSubnet("10.1.2.77/28")).toEqual({
    network: "10.1.2.64",
    gateway: "10.1.2.65",
    netmask: "255.255.255.240",
    dhcpStart: "10.1.2.66",
    dhcpEnd: "10.1.2.78",
    prefix: 28,
  });
  for (const bad of ["10.0.0.0", "300.1.1.1/24", "10.0.0.0/31", "10.0.0.0/4", "a.b.c.d/8"]) {
    expect(() => parseSubnet(bad)).toThrow(RangeError);
  }
});
