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
  /** nat networks: how traffic leaves (NAT, or routed without translation). */
  forward: "nat" | "route";
  /** nat networks: the host's address on the bridge; null = the subnet's first host. */
  gateway: string | null;
  dhcp: 0 | 1;
  /** null = the subnet's default range (after the gateway to the last host). */
  dhcp_start: string | null;
  dhcp_end: string | null;
  domain: string | null;
  subnet6: string | null;
  gateway6: string | null;
  /** An identifier a front gave it (PVC's VNI); recorded and shown only. */
  vni: number | null;
  description: string | null;
}

/** The options a network is created with beyond its kind, bridge and VLANs. */
export type NetworkOptions = Pick<
  NetworkRow,
  | "forward"
  | "gateway"
  | "dhcp"
  | "dhcp_start"
  | "dhcp_end"
  | "domain"
  | "subnet6"
  | "gateway6"
  | "vni"
  | "description"
>;

/** The columns a network's options fill (insert and update alike), in one order. */
const OPTION_COLUMNS = [
  "forward",
  "gateway",
  "dhcp",
  "dhcp_start",
  "dhcp_end",
  "domain",
  "subnet6",
  "gateway6",
  "vni",
  "description",
] as const satisfies readonly (keyof NetworkOptions)[];
const INSERT_COLUMNS = [
  "name",
  "kind",
  "bridge",
  "vlan",
  "trunk",
  "subnet",
  "owns_bridge",
  "created_at",
  ...OPTION_COLUMNS,
] as const satisfies readonly (keyof NetworkRow)[];
const UPDATE_COLUMNS = ["subnet", "vlan", ...OPTION_COLUMNS] as const;

export function insertNetwork(db: Database, r: NetworkRow): void {
  db.query(
    `INSERT INTO networks (${INSERT_COLUMNS.join(", ")}) VALUES (${INSERT_COLUMNS.map(() => "?").join(", ")})`,
  ).run(...INSERT_COLUMNS.map((c) => r[c]));
}

/** Rewrites a network's subnet, VLAN and options (its name, kind and bridge stay). */
export function updateNetworkRow(
  db: Database,
  name: string,
  r: NetworkOptions & Pick<NetworkRow, "subnet" | "vlan">,
): void {
  db.query(`UPDATE networks SET ${UPDATE_COLUMNS.map((c) => `${c} = ?`).join(", ")} WHERE name = ?`).run(
    ...UPDATE_COLUMNS.map((c) => r[c]),
    name,
  );
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
