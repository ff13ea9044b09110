// Validates a network request into what berth will create: kind, bridge, VLANs, normalised subnet.

import type { NetworkOptions } from "../../db/networks.ts";
import { BadRequest } from "../../errors.ts";
import { parseSubnet } from "../../xml/network.ts";
import { checkName } from "../names.ts";
import { type NetworkOptionsInput, planOptions } from "./options.ts";

/** The request body of POST /v1/networks. */
export interface NetworkInput extends NetworkOptionsInput {
  name: string;
  mode?: "ovs" | "nat";
  bridge?: string;
  vlan?: number;
  trunk?: number[];
  subnet?: string;
}

export interface NetworkPlan {
  name: string;
  kind: "ovs" | "nat";
  bridge: string;
  vlan: number | null;
  trunk: number[] | null;
  subnet: string | null;
  options: NetworkOptions;
}

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace; "." and ".." are taken. */
const BRIDGE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export function checkBridge(bridge: string): string {
  if (!BRIDGE_RE.test(bridge) || bridge === "." || bridge === "..") {
    throw new BadRequest(
      `bridge name ${JSON.stringify(bridge)} is invalid: use 1-15 letters, digits, '_', '.' and '-'`,
    );
  }
  return bridge;
}

function checkVlan(tag: number, what: string): number {
  if (!Number.isInteger(tag) || tag < 1 || tag > 4094) {
    throw new BadRequest(`${what} ${tag} is outside 1-4094`);
  }
  return tag;
}

/** "virbr-" and 8 hex digits of the name's SHA-256: stable, 14 characters, unlikely to collide. */
export function natBridgeName(name: string): string {
  return `virbr-${new Bun.CryptoHasher("sha256").update(name).digest("hex").slice(0, 8)}`;
}

/** "10.1.2.77/28" → "10.1.2.64/28"; a RangeError from the parser becomes a 400. */
export function normaliseSubnet(cidr: string): string {
  try {
    const s = parseSubnet(cidr);
    return `${s.network}/${s.prefix}`;
  } catch (e) {
    if (e instanceof RangeError) throw new BadRequest(e.message, { cause: e });
    throw e;
  }
}

const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/** Whether two normalised IPv4 CIDRs share any address. */
export function subnetsOverlap(a: string, b: string): boolean {
  const range = (cidr: string) => {
    const [ip = "", prefix = "32"] = cidr.split("/");
    const start = toInt(ip);
    return [start, start + 2 ** (32 - Number(prefix)) - 1] as const;
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

export function planNetwork(input: NetworkInput): NetworkPlan {
  const name = checkName("network", input.name);
  const kind = input.mode ?? "ovs";
  if (kind === "nat") {
    if (input.subnet === undefined) throw new BadRequest("a nat network needs a subnet (IPv4 CIDR)");
    if (input.vlan !== undefined || input.trunk !== undefined) {
      throw new BadRequest("vlan and trunk apply to ovs networks, not nat ones");
    }
    const subnet = normaliseSubnet(input.subnet);
    return {
      name,
      kind,
      bridge: input.bridge === undefined ? natBridgeName(name) : checkBridge(input.bridge),
      vlan: null,
      trunk: null,
      subnet,
      options: planOptions(kind, subnet, input),
    };
  }
  if (input.bridge === undefined) throw new BadRequest("an ovs network needs a bridge");
  if (input.subnet !== undefined) throw new BadRequest("subnet applies to nat networks, not ovs ones");
  if (input.vlan !== undefined && input.trunk !== undefined) {
    throw new BadRequest("give vlan (an access port) or trunk (tagged VLANs), not both");
  }
  let trunk: number[] | null = null;
  if (input.trunk !== undefined) {
    if (input.trunk.length === 0) throw new BadRequest("trunk needs at least one VLAN tag");
    for (const tag of input.trunk) checkVlan(tag, "trunk VLAN");
    if (new Set(input.trunk).size !== input.trunk.length) throw new BadRequest("trunk lists a VLAN twice");
    trunk = [...input.trunk].sort((x, y) => x - y);
  }
  return {
    name,
    kind,
    bridge: checkBridge(input.bridge),
    vlan: input.vlan === undefined ? null : checkVlan(input.vlan, "vlan"),
    trunk,
    subnet: null,
    options: planOptions(kind, null, input),
  };
}
