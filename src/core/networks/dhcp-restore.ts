// At start: every recorded DHCP reservation is put back into its libvirt network if something took it out.
import { listNetworkHosts } from "../../db/network-hosts.ts";
import { listNetworkRows } from "../../db/networks.ts";
import { log } from "../../log.ts";
import { buildDhcpHostXml } from "../../xml/network.ts";
import type { Core } from "../context.ts";
import { serialize } from "./serial.ts";

/** Adds back (live and config) the reservations libvirt's definition lacks; returns the MACs restored. */
export function restoreDhcpHosts(core: Core): Promise<string[]> {
  return serialize(core.db, async () => {
    const restored: string[] = [];
    const present = new Set((await core.hv.call("network.list", {})).map((n) => n.name));
    for (const net of listNetworkRows(core.db)) {
      const hosts = listNetworkHosts(core.db, net.name);
      if (net.kind !== "nat" || hosts.length === 0 || !present.has(net.name)) continue;
      const xml = (await core.hv.call("network.xml", { name: net.name })).toLowerCase();
      for (const h of hosts) {
        if (xml.includes(`mac='${h.mac}'`) && xml.includes(`ip='${h.ip}'`)) continue;
        const host = buildDhcpHostXml({ mac: h.mac, ip: h.ip, hostname: h.hostname ?? undefined });
        try {
          await core.hv.call("network.dhcpHost", { name: net.name, op: "add", xml: host });
          restored.push(h.mac);
        } catch (e) {
          log.warn("could not restore a DHCP reservation", {
            network: net.name,
            mac: h.mac,
            error: e instanceof Error ? e.message : String(e),
          });
        }
      }
    }
    if (restored.length > 0) log.info("DHCP reservations restored", { macs: restored });
    return restored;
  });
}
