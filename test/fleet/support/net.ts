// The test fleet's network: a switch namespace with a bridge, one namespace per node on a /24 (10.250.0.0 by default), and a root veth.
import { run } from "./run.ts";

/** BERTH_FLEET_NET ("10.250" by default) lets two fleet runs share a machine: each takes its own /16's subnets. */
export const FLEET_NET = process.env.BERTH_FLEET_NET ?? "10.250";
if (!/^10\.(\d{1,3})$/.test(FLEET_NET) || Number(FLEET_NET.split(".")[1]) > 255)
  throw new Error(`BERTH_FLEET_NET must look like 10.N, not ${FLEET_NET}`);
export const SUBNET = `${FLEET_NET}.0`;
/** The root namespace's address on the fleet subnet: tests reach every node from here. */
export const ROOT_IP = `${SUBNET}.254`;

export interface FleetNet {
  /** Namespace names by node letter (a, b, c), and the switch's. */
  ns: Record<string, string>;
  switchNs: string;
  rootVeth: string;
  ip: Record<string, string>;
  /** The root namespace's address on this net (ROOT_IP unless another subnet was asked for). */
  rootIp: string;
}

/**
 * Names carry `id` (a few hex digits) so nothing of the machine's, or of another run, is ever touched; a suite
 * that may run beside another fleet suite passes its own `subnet` (two root veths on one subnet would mix their routes).
 */
export function netNames(id: string, nodes: string[], subnet = SUBNET): FleetNet {
  const ns: Record<string, string> = {};
  const ip: Record<string, string> = {};
  nodes.forEach((n, i) => {
    ns[n] = `bfl${id}-${n}`;
    ip[n] = `${subnet}.${i + 1}`;
  });
  return { ns, ip, switchNs: `bfl${id}-sw`, rootVeth: `bfl${id}r0`, rootIp: `${subnet}.254` };
}

export function netUp(net: FleetNet): void {
  const sw = net.switchNs;
  run(["ip", "netns", "add", sw]);
  run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"]);
  run(["ip", "-n", sw, "link", "set", "br0", "up"]);
  run(["ip", "link", "add", net.rootVeth, "type", "veth", "peer", "name", "root", "netns", sw]);
  run(["ip", "-n", sw, "link", "set", "root", "master", "br0", "up"]);
  run(["ip", "addr", "add", `${net.rootIp}/24`, "dev", net.rootVeth]);
  run(["ip", "link", "set", net.rootVeth, "up"]);
  for (const [node, ns] of Object.entries(net.ns)) {
    const port = `${net.rootVeth.slice(0, -2)}${node}`;
    run(["ip", "netns", "add", ns]);
    run(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    run(["ip", "link", "set", port, "netns", sw]);
    run(["ip", "-n", sw, "link", "set", port, "master", "br0", "up"]);
    run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    run(["ip", "-n", ns, "addr", "add", `${net.ip[node]}/24`, "dev", "eth0"]);
    run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
  }
}

/** Deletes exactly what netUp made, by name (the namespaces take their veth ends with them). */
export function netDown(net: FleetNet): void {
  run(["ip", "link", "del", net.rootVeth], { allowFail: true });
  for (const ns of [...Object.values(net.ns), net.switchNs])
    run(["ip", "netns", "del", ns], { allowFail: true });
}
