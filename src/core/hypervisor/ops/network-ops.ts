// Network operations run inside a hypervisor Worker, addressed by network name.
import {
  type Connection,
  type DhcpLease,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
} from "../../../ffi/index.ts";

export interface NetworkSummary {
  name: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

type ByName = { name: string };

function withNetwork<T>(
  c: Connection,
  name: string,
  fn: (n: ReturnType<Connection["networkByName"]>) => T,
): T {
  using n = c.networkByName(name);
  return fn(n);
}

export const networkOps = {
  "network.list"(c: Connection, _a: Record<string, never>): NetworkSummary[] {
    return c.listNetworks().map((n) => {
      using net = n;
      return {
        name: net.name(),
        active: net.isActive(),
        persistent: net.isPersistent(),
        autostart: net.autostart(),
      };
    });
  },
  "network.define"(c: Connection, a: { xml: string }): string {
    using n = c.defineNetwork(a.xml);
    return n.name();
  },
  "network.undefine": (c: Connection, a: ByName) => withNetwork(c, a.name, (n) => n.undefine()),
  "network.create": (c: Connection, a: ByName) => withNetwork(c, a.name, (n) => n.create()),
  "network.destroy": (c: Connection, a: ByName) => withNetwork(c, a.name, (n) => n.destroy()),
  "network.setAutostart": (c: Connection, a: ByName & { on: boolean }) =>
    withNetwork(c, a.name, (n) => n.setAutostart(a.on)),
  "network.xml": (c: Connection, a: ByName) => withNetwork(c, a.name, (n) => n.xml()),
  /** Adds or deletes one DHCP <host> in the definition, and in the running network when it runs. */
  "network.dhcpHost"(c: Connection, a: ByName & { op: "add" | "delete"; xml: string }): void {
    withNetwork(c, a.name, (n) => {
      const live = n.isActive() ? NetworkUpdateFlags.AFFECT_LIVE : 0;
      const command = a.op === "add" ? NetworkUpdateCommand.ADD_LAST : NetworkUpdateCommand.DELETE;
      n.update(command, NetworkUpdateSection.IP_DHCP_HOST, a.xml, live | NetworkUpdateFlags.AFFECT_CONFIG);
    });
  },
  "network.leases": (c: Connection, a: ByName & { mac?: string }): DhcpLease[] =>
    withNetwork(c, a.name, (n) => n.dhcpLeases(a.mac)),
};
