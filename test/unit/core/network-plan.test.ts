// Network requests turned into plans: defaults, bridge names, VLANs and subnets (pure).
import { expect, test } from "bun:test";
import {
  checkBridge,
  natBridgeName,
  normaliseSubnet,
  planNetwork,
  subnetsOverlap,
} from "../../../src/core/networks/plan.ts";
import { serialize } from "../../../src/core/networks/serial.ts";
import { BadRequest } from "../../../src/errors.ts";

test("mode defaults to ovs; trunks are sorted; NAT gets a stable short bridge name", () => {
  expect(planNetwork({ name: "v10", bridge: "br0", vlan: 10 })).toEqual({
    name: "v10",
    kind: "ovs",
    bridge: "br0",
    vlan: 10,
    trunk: null,
    subnet: null,
    options: {
      forward: "nat",
      gateway: null,
      dhcp: 1,
      dhcp_start: null,
      dhcp_end: null,
      domain: null,
      subnet6: null,
      gateway6: null,
      vni: null,
      description: null,
    },
  });
  expect(planNetwork({ name: "t", bridge: "br0", trunk: [300, 4094, 1] }).trunk).toEqual([1, 300, 4094]);
  const nat = planNetwork({ name: "lab", mode: "nat", subnet: "192.168.5.77/24" });
  expect(nat).toEqual({
    name: "lab",
    kind: "nat",
    bridge: natBridgeName("lab"),
    vlan: null,
    trunk: null,
    subnet: "192.168.5.0/24",
    options: {
      forward: "nat",
      gateway: null,
      dhcp: 1,
      dhcp_start: null,
      dhcp_end: null,
      domain: null,
      subnet6: null,
      gateway6: null,
      vni: null,
      description: null,
    },
  });
  expect(natBridgeName("lab")).toMatch(/^virbr-[0-9a-f]{8}$/);
  expect(natBridgeName("lab")).toBe(natBridgeName("lab"));
  expect(natBridgeName("lab")).not.toBe(natBridgeName("lab2"));
  expect(natBridgeName("x".repeat(63)).length).toBeLessThanOrEqual(15);
});

test("VLAN bounds are 1 and 4094 inclusive", () => {
  expect(planNetwork({ name: "a", bridge: "b", vlan: 1 }).vlan).toBe(1);
  expect(planNetwork({ name: "a", bridge: "b", vlan: 4094 }).vlan).toBe(4094);
  for (const vlan of [0, 4095, -1, 1.5])
    expect(() => planNetwork({ name: "a", bridge: "b", vlan })).toThrow(BadRequest);
  expect(() => planNetwork({ name: "a", bridge: "b", trunk: [0] })).toThrow(BadRequest);
});

test("bridge names: Linux interface names of 1-15 characters", () => {
  for (const ok of ["br0", "br-lab.10", "A_b", "x".repeat(15)]) expect(checkBridge(ok)).toBe(ok);
  for (const bad of ["", "x".repeat(16), "br 0", "br/0", "br:0", ".", "..", "brü"]) {
    expect(() => checkBridge(bad)).toThrow(BadRequest);
  }
});

test("subnets normalise to the network address and overlap by range", () => {
  expect(normaliseSubnet("10.1.2.77/28")).toBe("10.1.2.64/28");
  expect(() => normaliseSubnet("10.1.2.0/30")).toThrow(BadRequest);
  expect(subnetsOverlap("10.0.0.0/8", "10.200.1.0/24")).toBe(true);
  expect(subnetsOverlap("10.200.1.0/24", "10.0.0.0/8")).toBe(true);
  expect(subnetsOverlap("10.1.0.0/24", "10.1.1.0/24")).toBe(false);
  expect(subnetsOverlap("192.168.1.0/24", "192.168.1.128/25")).toBe(true);
});

test("serialize runs calls for one key one after another, and a failure does not block the next", async () => {
  const key = {};
  const order: string[] = [];
  const slow = serialize(key, async () => {
    order.push("a start");
    await Bun.sleep(20);
    order.push("a end");
    throw new Error("a failed");
  });
  const fast = serialize(key, async () => {
    order.push("b");
    return 2;
  });
  await expect(slow).rejects.toThrow("a failed");
  expect(await fast).toBe(2);
  expect(order).toEqual(["a start", "a end", "b"]);
});
