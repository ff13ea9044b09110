// pvc_acls table: PVC's nftables ACLs per network and direction, in their order.
import type { Database } from "bun:sqlite";

export interface PvcAclRow {
  network: string;
  description: string;
  direction: "in" | "out";
  rule: string;
  /** 1-based place in its network's chain for that direction. */
  position: number;
}

/** Every ACL, by network, direction and position: the whole ruleset berth applies. */
export function listAllAcls(db: Database): PvcAclRow[] {
  return db
    .query("SELECT * FROM pvc_acls ORDER BY network, direction, position, description")
    .all() as PvcAclRow[];
}

export function listAcls(db: Database, network: string): PvcAclRow[] {
  return db
    .query("SELECT * FROM pvc_acls WHERE network = ? ORDER BY direction, position, description")
    .all(network) as PvcAclRow[];
}

/** Replaces a network's ACLs in one transaction (positions renumbered by the caller). */
export function replaceAcls(db: Database, network: string, rows: PvcAclRow[]): void {
  db.transaction(() => {
    db.query("DELETE FROM pvc_acls WHERE network = ?").run(network);
    const ins = db.query(
      "INSERT INTO pvc_acls (network, description, direction, rule, position) VALUES (?, ?, ?, ?, ?)",
    );
    for (const r of rows) ins.run(r.network, r.description, r.direction, r.rule, r.position);
  })();
}
