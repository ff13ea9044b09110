// The few reads and writes of vms, vm_disks, vm_nics and networks that reconcile needs.
import type { Database } from "bun:sqlite";

export interface ReconcileVmRow {
  id: string;
  name: string;
  status: string;
  boot: string;
  created_at: string;
  updated_at: string;
}

/** Up to `limit` rows named after `after`, by name (the vms name index): a pass reads the table in slices. */
export function reconcileVmsPage(db: Database, after: string, limit: number): ReconcileVmRow[] {
  return db
    .query(
      "SELECT id, name, status, boot, created_at, updated_at FROM vms WHERE name > ? ORDER BY name LIMIT ?",
    )
    .all(after, limit) as ReconcileVmRow[];
}

export function reconcileVmById(db: Database, id: string): ReconcileVmRow | null {
  return db
    .query("SELECT id, name, status, boot, created_at, updated_at FROM vms WHERE id = ?")
    .get(id) as ReconcileVmRow | null;
}

/** True when a row already uses this id or this name. */
export function vmIdOrNameTaken(db: Database, id: string, name: string): boolean {
  return db.query("SELECT 1 FROM vms WHERE id = ? OR name = ?").get(id, name) !== null;
}

/**
 * Sets the status only if it is still `expected` and the row was last updated before `notAfter`, so a
 * change made while reconcile looked at libvirt always wins. Returns whether the row changed.
 */
export function setVmStatusIfUnchanged(
  db: Database,
  id: string,
  expected: string,
  notAfter: string,
  status: string,
  at: string,
  stamps: { started_at?: string; stopped_at?: string } = {},
): boolean {
  return (
    db
      .query(
        `UPDATE vms SET status = ?, updated_at = ?, started_at = COALESCE(?, started_at),
           stopped_at = COALESCE(?, stopped_at)
         WHERE id = ? AND status = ? AND updated_at < ?`,
      )
      .run(status, at, stamps.started_at ?? null, stamps.stopped_at ?? null, id, expected, notAfter).changes >
    0
  );
}

export function diskVolumesOf(
  db: Database,
  vmId: string,
): { unit: number; volume: string; device: "disk" | "cdrom"; format: string }[] {
  return db
    .query("SELECT unit, volume, device, format FROM vm_disks WHERE vm_id = ? ORDER BY unit")
    .all(vmId) as {
    unit: number;
    volume: string;
    device: "disk" | "cdrom";
    format: string;
  }[];
}

/** Deletes the row (its disks and NICs go with it: ON DELETE CASCADE). */
export function deleteVmRow(db: Database, id: string): void {
  db.query("DELETE FROM vms WHERE id = ?").run(id);
}

/** The berth network carried by an OVS bridge with this access VLAN (or untagged when null). */
export function networkForBridge(db: Database, bridge: string, vlan: number | null): string | null {
  const row = db
    .query("SELECT name FROM networks WHERE bridge = ? AND vlan IS ? AND trunk IS NULL ORDER BY name LIMIT 1")
    .get(bridge, vlan) as { name: string } | null;
  return row?.name ?? null;
}

export interface AdoptedVm {
  id: string;
  name: string;
  uuid: string | null;
  status: string;
  vcpus: number;
  memory_mib: number;
  boot: string;
  description: string;
  at: string;
  disks: {
    unit: number;
    name: string;
    volume: string;
    path: string;
    format: string;
    device: string;
    size: number;
    bus: string;
  }[];
  nics: { idx: number; network: string; mac: string }[];
}

export function insertAdoptedVm(db: Database, vm: AdoptedVm): void {
  db.transaction(() => {
    db.query(
      `INSERT INTO vms (id, name, uuid, status, vcpus, memory_mib, boot, description, tags, created_at,
         started_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      vm.id,
      vm.name,
      vm.uuid,
      vm.status,
      vm.vcpus,
      vm.memory_mib,
      vm.boot,
      vm.description,
      JSON.stringify({ adopted: "true" }),
      vm.at,
      vm.status === "running" ? vm.at : null,
      vm.at,
    );
    for (const d of vm.disks) {
      db.query(
        `INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size, bus)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(vm.id, d.unit, d.name, d.volume, d.path, d.format, d.device, d.size, d.bus);
    }
    for (const n of vm.nics) {
      db.query("INSERT INTO vm_nics (vm_id, idx, network, mac) VALUES (?, ?, ?, ?)").run(
        vm.id,
        n.idx,
        n.network,
        n.mac,
      );
    }
  })();
}

/** True when an image or any VM's disk row refers to this volume, so it is not an orphan's own. */
export function volumeInUse(db: Database, volume: string): boolean {
  return (
    db.query("SELECT 1 FROM images WHERE volume = ?1 OR initrd_volume = ?1").get(volume) !== null ||
    db.query("SELECT 1 FROM vm_disks WHERE volume = ?").get(volume) !== null
  );
}
