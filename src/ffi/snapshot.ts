// DomainSnapshot: one libvirt snapshot handle (virDomainSnapshot*).
import type { Pointer } from "bun:ffi";
import { check, lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { borrowString, takeString } from "./strings.ts";

export class DomainSnapshot extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virDomainSnapshotFree(q));
  }

  /** virDomainSnapshotGetName: the string belongs to the snapshot object, so it is copied. */
  name(): string {
    return borrowString(sym.virDomainSnapshotGetName(this[RAW]()) as Pointer | null);
  }

  /** virDomainSnapshotGetXMLDesc: the returned char* is ours to free. */
  xml(flags = 0): string {
    const p = sym.virDomainSnapshotGetXMLDesc(this[RAW](), flags) as Pointer | null;
    if (!p) throw lastError();
    return takeString(p);
  }

  /** virDomainRevertToSnapshot */
  revert(flags = 0): void {
    check(sym.virDomainRevertToSnapshot(this[RAW](), flags));
  }

  /** virDomainSnapshotDelete */
  delete(flags = 0): void {
    check(sym.virDomainSnapshotDelete(this[RAW](), flags));
  }
}
