// networks table: the libvirt networks berth created (OVS with VLANs, or NAT), and who uses them.
import type { Database } from "bun:sqlite";

export interface NetworkRow {
  name: string;
  kind: "ovs" | "nat";
  bridge: string;
  vlan: number | null;
  /** JSON array of VLAN tags, or null. */
  trunk: string | null;
  subnet: string | null;
  /** 1 when berth created the OVS bridge and will remove it with the last network on it. */
  owns_bridge: 0 | 1;
  created_at: string;
}

export function insertNetwork(db: Database, r: NetworkRow): void {
  db.query(
    `INSERT INTO networks (name, kind, bridge, vlan, trunk, subnet, owns_bridge, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.name, r.kind, r.bridge, r.vlan, r.trunk, r.subnet, r.owns_bridge, r.created_at);
}

export function getNetworkRow(db: Database, name: string): NetworkRow | null {
  return db.query("SELECT * FROM networks WHERE name = ?").get(name) as NetworkRow | null;
}

export function listNetworkRows(db: Database): NetworkRow[] {
  return db.query("SELECT * FROM networks ORDER BY name").all() as NetworkRow[];
}

export function deleteNetworkRow(db: Database, name: string): void {
  db.query("DELETE FROM networks WHERE name = ?").run(name);
}

/** Other berth networks on `bridge` (exact match). */
export function networksOnBridge(db: Database, bridge: string, except: string): string[] {
  return (
    db
      .query("SELECT name FROM networks WHERE bridge = ? AND name != ? ORDER BY name")
      .all(bridge, except) as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/** Hands the bridge's ownership to another network on it, so the last one out removes the bridge. */
export function passBridgeOwnership(db: Database, to: string): void {
  db.query("UPDATE networks SET owns_bridge = 1 WHERE name = ?").run(to);
}

/** Names of the VMs with a NIC on network `name` (exact match). */
export function vmsOnNetwork(db: Database, name: string): string[] {
  return (
    db
      .query(
        `SELECT DISTINCT v.name FROM vm_nics n JOIN vms v ON v.id = n.vm_id
         WHERE n.network = ? ORDER BY v.name`,
      )
      .all(name) as { name: string }[]
  ).map((r) => r.name);
}
