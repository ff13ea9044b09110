// buildSnapshotXml / readSnapshotXml: the pure builder of a `<domainsnapshot>` request and reader of libvirt's answer.
import { ATTR, fromXml, isNode, textOf, toXml } from "./codec.ts";

export interface SnapshotSpec {
  name: string;
  description?: string;
  /**
   * Guest targets (sdb, …) libvirt must leave out: read-only ISO cdroms, whose raw format cannot hold
   * an internal snapshot. libvirt 9 already skips read-only disks; saying so keeps older ones from refusing.
   */
  skipDisks?: string[];
}

/** No `<memory>` and no disk modes: libvirt's default is an internal snapshot, with RAM when the VM runs. */
export function buildSnapshotXml(spec: SnapshotSpec): string {
  const snap: Record<string, unknown> = { name: spec.name };
  if (spec.description) snap.description = spec.description;
  if (spec.skipDisks?.length) {
    snap.disks = { disk: spec.skipDisks.map((target) => ({ "@name": target, "@snapshot": "no" })) };
  }
  return toXml({ domainsnapshot: snap });
}

export interface SnapshotFacts {
  name: string;
  /** The domain's state when it was taken (running, paused, shutoff, …). */
  state: string;
  /** True when libvirt kept the guest's memory (`<memory snapshot='internal|external'>`). */
  memory: boolean;
  /** Seconds since the epoch, as libvirt records it. */
  creationTime: number | null;
}

function text(v: unknown): string | null {
  return textOf(v)?.trim() ?? null;
}

/** Reads the facts berth records from virDomainSnapshotGetXMLDesc. */
export function readSnapshotXml(xml: string): SnapshotFacts {
  const snap = fromXml(xml).domainsnapshot;
  if (!isNode(snap)) throw new Error("not a domainsnapshot XML document");
  const name = text(snap.name);
  if (!name) throw new Error("domainsnapshot XML has no name");
  const memory = isNode(snap.memory) ? snap.memory[`${ATTR}snapshot`] : undefined;
  const created = Number(text(snap.creationTime) ?? Number.NaN);
  return {
    name,
    state: text(snap.state) ?? "nostate",
    memory: memory === "internal" || memory === "external",
    creationTime: Number.isFinite(created) ? created : null,
  };
}
