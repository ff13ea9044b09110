// Snapshot operations run inside a hypervisor Worker, addressed by domain and snapshot name.
import type { Connection } from "../../../ffi/index.ts";

type Snap = { name: string; snapshot: string };

export const snapshotOps = {
  "snapshot.create"(c: Connection, a: { name: string; xml: string; flags?: number }): string {
    using d = c.domainByName(a.name);
    using s = d.createSnapshot(a.xml, a.flags ?? 0);
    return s.name();
  },
  "snapshot.list"(c: Connection, a: { name: string }): string[] {
    using d = c.domainByName(a.name);
    return d.listSnapshots().map((s) => {
      using snap = s;
      return snap.name();
    });
  },
  "snapshot.xml"(c: Connection, a: Snap): string {
    using d = c.domainByName(a.name);
    using s = d.snapshot(a.snapshot);
    return s.xml();
  },
  "snapshot.revert"(c: Connection, a: Snap & { flags?: number }): void {
    using d = c.domainByName(a.name);
    using s = d.snapshot(a.snapshot);
    s.revert(a.flags ?? 0);
  },
  "snapshot.delete"(c: Connection, a: Snap & { flags?: number }): void {
    using d = c.domainByName(a.name);
    using s = d.snapshot(a.snapshot);
    s.delete(a.flags ?? 0);
  },
};
