// Domain operations run inside a hypervisor Worker: each looks the domain up by name, acts, frees it.
import {
  type AddressSourceName,
  Affect,
  type Connection,
  type DomainInfo,
  type DomainState,
  type InterfaceAddresses,
  isNoSuchDomain,
  ListDomains,
  type MigrateParams,
} from "../../../ffi/index.ts";
import { buildDomainXml, type DomainSpec } from "../../../xml/domain.ts";

export interface DomainSummary {
  name: string;
  uuid: string;
  state: DomainState;
  persistent: boolean;
  /** The berth metadata element when `metadataUri` was asked for and the domain carries it. */
  metadata?: string | null;
}

type ByName = { name: string };
type DeviceArgs = ByName & { xml: string; live?: boolean; config?: boolean };

function affect(a: { live?: boolean; config?: boolean }): number {
  return (a.live ? Affect.LIVE : 0) | (a.config ? Affect.CONFIG : 0);
}

function withDomain<T>(c: Connection, name: string, fn: (d: ReturnType<Connection["domainByName"]>) => T): T {
  using d = c.domainByName(name);
  return fn(d);
}

export const domainOps = {
  "domain.list"(c: Connection, a: { metadataUri?: string }): DomainSummary[] {
    const out: DomainSummary[] = [];
    for (const d of c.listDomains()) {
      using dom = d;
      try {
        const s: DomainSummary = {
          name: dom.name(),
          uuid: dom.uuid(),
          state: dom.state().state,
          persistent: dom.isPersistent(),
        };
        if (a.metadataUri) s.metadata = dom.metadata(a.metadataUri);
        out.push(s);
      } catch (e) {
        // Undefined between the listing and these reads: it is simply not there any more.
        if (!isNoSuchDomain(e)) throw e;
      }
    }
    return out;
  },
  /**
   * Every domain's state in a handful of calls (all names, then one listing per common state) rather
   * than one per domain; only domains in none of those listings (blocked, crashed, or changing state
   * meanwhile) are asked one by one.
   */
  "domain.states"(c: Connection, _a: Record<string, never>): { name: string; state: DomainState }[] {
    const names = (flags: number) =>
      c.listDomains(flags).map((d) => {
        using dom = d;
        return dom.name();
      });
    const all = names(0);
    const known = new Map<string, DomainState>();
    for (const [flag, state] of [
      [ListDomains.RUNNING, "running"],
      [ListDomains.PAUSED, "paused"],
      [ListDomains.SHUTOFF, "shutoff"],
    ] as const) {
      for (const n of names(flag)) if (!known.has(n)) known.set(n, state);
    }
    const out: { name: string; state: DomainState }[] = [];
    for (const name of all) {
      const state = known.get(name);
      if (state) {
        out.push({ name, state });
        continue;
      }
      try {
        out.push({ name, state: withDomain(c, name, (d) => d.state().state) });
      } catch (e) {
        if (!isNoSuchDomain(e)) throw e; // undefined since the listing: not there any more
      }
    }
    return out;
  },
  "domain.define"(c: Connection, a: { xml: string; validate?: boolean }): { name: string; uuid: string } {
    using d = c.defineDomain(a.xml, a.validate ? 1 : 0);
    return { name: d.name(), uuid: d.uuid() };
  },
  /** The same from the definition's spec: the XML is built here, so the HTTP thread never serializes it. */
  "domain.defineSpec"(c: Connection, a: { spec: DomainSpec }): { name: string; uuid: string } {
    using d = c.defineDomain(buildDomainXml(a.spec), 0);
    return { name: d.name(), uuid: d.uuid() };
  },
  "domain.undefine": (c: Connection, a: ByName & { flags?: number }) =>
    withDomain(c, a.name, (d) => d.undefine(a.flags ?? 0)),
  "domain.create": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.create()),
  "domain.destroy": (c: Connection, a: ByName & { graceful?: boolean }) =>
    withDomain(c, a.name, (d) => d.destroy(a.graceful ? 1 : 0)),
  "domain.shutdown": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.shutdown()),
  "domain.reboot": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.reboot()),
  "domain.reset": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.reset()),
  "domain.suspend": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.suspend()),
  "domain.resume": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.resume()),
  "domain.managedSave": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.managedSave()),
  "domain.hasManagedSave": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.hasManagedSave()),
  "domain.removeManagedSave": (c: Connection, a: ByName) =>
    withDomain(c, a.name, (d) => d.removeManagedSave()),
  "domain.setAutostart": (c: Connection, a: ByName & { on: boolean }) =>
    withDomain(c, a.name, (d) => d.setAutostart(a.on)),
  "domain.info": (
    c: Connection,
    a: ByName,
  ): DomainInfo & { uuid: string; persistent: boolean; reason: number } =>
    withDomain(c, a.name, (d) => ({
      ...d.info(),
      uuid: d.uuid(),
      persistent: d.isPersistent(),
      reason: d.state().reason,
    })),
  "domain.xml": (c: Connection, a: ByName & { flags?: number }) =>
    withDomain(c, a.name, (d) => d.xml(a.flags ?? 0)),
  "domain.getMetadata": (c: Connection, a: ByName & { uri: string }) =>
    withDomain(c, a.name, (d) => d.metadata(a.uri)),
  "domain.setMetadata": (
    c: Connection,
    a: ByName & { uri: string; key: string; xml: string | null; live?: boolean; config?: boolean },
  ) => withDomain(c, a.name, (d) => d.setMetadata(a.uri, a.key, a.xml, affect(a))),
  "domain.attachDevice": (c: Connection, a: DeviceArgs) =>
    withDomain(c, a.name, (d) => d.attachDevice(a.xml, affect(a))),
  "domain.detachDevice": (c: Connection, a: DeviceArgs) =>
    withDomain(c, a.name, (d) => d.detachDevice(a.xml, affect(a))),
  "domain.updateDevice": (c: Connection, a: DeviceArgs) =>
    withDomain(c, a.name, (d) => d.updateDevice(a.xml, affect(a))),
  "domain.blockResize": (c: Connection, a: ByName & { disk: string; bytes: number }) =>
    withDomain(c, a.name, (d) => d.blockResize(a.disk, a.bytes)),
  "domain.migrate": (c: Connection, a: ByName & { uri: string; flags: number } & MigrateParams) =>
    withDomain(c, a.name, (d) =>
      d.migrateToURI3(a.uri, a.flags, {
        destXml: a.destXml,
        persistXml: a.persistXml,
        migrateUri: a.migrateUri,
        bandwidthMib: a.bandwidthMib,
      }),
    ),
  "domain.hasJob": (c: Connection, a: ByName) => withDomain(c, a.name, (d) => d.hasJob()),
  "domain.addresses": (c: Connection, a: ByName & { source: AddressSourceName }): InterfaceAddresses[] =>
    withDomain(c, a.name, (d) => d.interfaceAddresses(a.source)),
};
