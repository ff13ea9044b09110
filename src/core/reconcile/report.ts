// What one reconcile pass found and did, as the scheduler logs it and a caller reads it.

export type OrphanAction = "reported" | "adopted" | "removed" | "skipped";

export interface ReconcileReport {
  started_at: string;
  finished_at: string;
  /** Rows in the vms table and berth-marked domains libvirt listed. */
  checked: { vms: number; domains: number };
  /** VMs whose domain vanished, now marked gone. */
  gone: string[];
  /** VMs a crash left half-created (`creating`) or half-deleted, whose volumes, domain and row were removed. */
  cleaned: string[];
  /** Rows whose status was brought in line with libvirt. */
  synced: { name: string; from: string; to: string }[];
  /** berth-marked domains with no row, and what was done about them. */
  orphans: { id: string; domain: string; action: OrphanAction; reason?: string; details?: string[] }[];
  /** Rows or domains left alone this time, and why (busy, unreadable metadata). */
  skipped: { target: string; reason: string }[];
  /** Steps that failed; the next pass tries again. */
  errors: { target: string; message: string }[];
}

export function emptyReport(at: string): ReconcileReport {
  return {
    started_at: at,
    finished_at: at,
    checked: { vms: 0, domains: 0 },
    gone: [],
    cleaned: [],
    synced: [],
    orphans: [],
    skipped: [],
    errors: [],
  };
}
