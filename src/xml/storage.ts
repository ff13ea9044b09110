// Pure builders of libvirt storage XML: berth's directory pools and its volumes (blank or linked clones).
import { toXml } from "./codec.ts";

export function buildDirPoolXml(spec: { name: string; path: string }): string {
  return toXml({
    pool: { "@type": "dir", name: spec.name, target: { path: spec.path, permissions: { mode: "0755" } } },
  });
}

export interface VolumeSpec {
  name: string;
  capacityBytes: number;
  format: "qcow2" | "raw";
  /** A linked clone: the new qcow2 overlay reads unchanged blocks from this file. */
  backing?: { path: string; format: "qcow2" | "raw" };
}

export function buildVolumeXml(spec: VolumeSpec): string {
  const volume: Record<string, unknown> = {
    name: spec.name,
    capacity: { "@unit": "bytes", "#text": spec.capacityBytes },
    target: { format: { "@type": spec.format } },
  };
  if (spec.backing) {
    volume.backingStore = { path: spec.backing.path, format: { "@type": spec.backing.format } };
  }
  return toXml({ volume });
}
