// A domain definition with its kernel and initrd at other paths: what a destination host gets when its boot image files live elsewhere.
import { fromXml, isNode, toXml } from "./codec.ts";

export interface BootPaths {
  kernel: string;
  initrd?: string | undefined;
}

/** `xml` with <os><kernel> and <initrd> set to `paths`; everything else as parsed (the codec escapes). */
export function withBootPaths(xml: string, paths: BootPaths): string {
  const tree = fromXml(xml);
  const os = isNode(tree.domain) && isNode(tree.domain.os) ? tree.domain.os : null;
  if (!os || os.kernel === undefined) throw new Error("domain definition has no <os><kernel> to move");
  os.kernel = paths.kernel;
  if (paths.initrd !== undefined) os.initrd = paths.initrd;
  else delete os.initrd;
  return toXml(tree);
}
