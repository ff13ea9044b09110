// Pure builders of libvirt storage XML: berth's directory pools and its volumes (blank or linked clones).
import { toXml } from "./codec.ts";

/** A pool directory QEMU's user may pass through to its disks, but no other host user may list. */
export const POOL_DIR_MODE = 0o711;

export function buildDirPoolXml(spec: { name: string; path: string }): string {
  const mode = `0${POOL_DIR_MODE.toString(8)}`;
  return toXml({
    pool: { "@type": "dir", name: spec.name, target: { path: spec.path, permissions: { mode } } },
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
