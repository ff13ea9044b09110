// vm_numbers: the small integer each VM gets at creation (migration 12), never reused; Kahu's instance ids.
import type { Database } from "bun:sqlite";

export function vmNumberOf(db: Database, vmId: string): number | null {
  const row = db.query("SELECT num FROM vm_numbers WHERE vm_id = ?").get(vmId) as { num: number } | null;
  return row?.num ?? null;
}

export function vmNameByNumber(db: Database, num: number): string | null {
  const row = db
    .query("SELECT v.name FROM vm_numbers n JOIN vms v ON v.id = n.vm_id WHERE n.num = ?")
    .get(num) as { name: string } | null;
  return row?.name ?? null;
}

/** Every VM's number, by VM id. */
export function vmNumbers(db: Database): Map<string, number> {
  const rows = db.query("SELECT vm_id, num FROM vm_numbers").all() as { vm_id: string; num: number }[];
  return new Map(rows.map((r) => [r.vm_id, r.num]));
}
