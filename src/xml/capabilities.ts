// Reads what berth needs from libvirt's capabilities XML: the host arch and the domain types it offers.
import { fromXml } from "./codec.ts";

export interface HostCapabilities {
  arch: string;
  /** Domain types (e.g. "qemu", "kvm") offered for guests of the host's own arch. */
  domainTypes: string[];
}

type Node = Record<string, unknown>;

export function parseCapabilities(xml: string): HostCapabilities {
  const doc = fromXml(xml, ["guest", "domain"]).capabilities as Node | undefined;
  const host = (doc?.host as Node | undefined)?.cpu as Node | undefined;
  const arch = String(host?.arch ?? "");
  const types = new Set<string>();
  for (const g of (doc?.guest as Node[] | undefined) ?? []) {
    const a = g.arch as Node | undefined;
    if (!a || (arch && a["@name"] !== arch)) continue;
    for (const d of (a.domain as Node[] | undefined) ?? []) types.add(String(d["@type"]));
  }
  return { arch, domainTypes: [...types] };
}

/** `auto` picks kvm when the host offers it for its own arch, else software emulation. */
export function chooseDomainType(setting: "auto" | "kvm" | "qemu", caps: HostCapabilities): "kvm" | "qemu" {
  if (setting !== "auto") return setting;
  return caps.domainTypes.includes("kvm") ? "kvm" : "qemu";
}
