// Reads a storage volume's XML (virStorageVolGetXMLDesc): the format libvirt records for it.
import { attrOf, fromXml, isNode } from "./codec.ts";

/** The volume's `<target><format type>`; null when it names none. */
export function readVolumeFormat(xml: string): string | null {
  const vol = fromXml(xml).volume;
  const target = isNode(vol) ? vol.target : undefined;
  return attrOf(isNode(target) ? target.format : undefined, "type");
}
