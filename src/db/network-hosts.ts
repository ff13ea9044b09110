// network_hosts table: static DHCP reservations (MAC → IPv4, hostname) of berth's libvirt-managed networks.
import type { Database } from "bun:sqlite";

export interface NetworkHostRow {
  network: string;
  /** Lowercase, ':'-separated. */
  mac: string;
  ip: string;
  hostname: string | null;
}

export function insertNetworkHost(db: Database, r: NetworkHostRow): void {
  db.query("INSERT INTO network_hosts (network, mac, ip, hostname) VALUES (?, ?, ?, ?)").run(
    r.network,
    r.mac,
    r.ip,
    r.hostname,
  );
}

export function listNetworkHosts(db: Database, network: string): NetworkHostRow[] {
  return db
    .query("SELECT * FROM network_hosts WHERE network = ? ORDER BY mac")
    .all(network) as NetworkHostRow[];
}

export function getNetworkHost(db: Database, network: string, mac: string): NetworkHostRow | null {
  return db
    .query("SELECT * FROM network_hosts WHERE network = ? AND mac = ?")
    .get(network, mac) as NetworkHostRow | null;
}

export function deleteNetworkHost(db: Database, network: string, mac: string): void {
  db.query("DELETE FROM network_hosts WHERE network = ? AND mac = ?").run(network, mac);
}
