// What libvirt itself holds for one berth under test (its domains and pool volumes), and a last-resort cleanup.
import type { Core } from "../../../src/core/context.ts";
import { removeDomain } from "../../../src/core/vms/domain.ts";
import { BERTH_NS } from "../../../src/xml/domain.ts";
import { SYSTEM_URI } from "../../integration/support/env.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";
import type { BerthProcess } from "./berth-process.ts";

export interface LibvirtView {
  core: Core & { close(): Promise<void> };
  /** Domains carrying berth's metadata whose name `mine` accepts, with the berth id they carry. */
  domains(mine: (name: string) => boolean): Promise<{ name: string; id: string | null; state: string }[]>;
  /** Volume names in the storage pool (empty when the pool does not exist). */
  volumes(pool: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function libvirtView(): Promise<LibvirtView> {
  const core = await testCore(testConfig("", { BERTH_HYPERVISOR_URI: SYSTEM_URI }));
  return {
    core,
    async domains(mine) {
      const list = await core.hv.call("domain.list", { metadataUri: BERTH_NS });
      return list
        .filter((d) => d.metadata && mine(d.name))
        .map((d) => ({
          name: d.name,
          id: /id="([^"]+)"/.exec(d.metadata ?? "")?.[1] ?? null,
          state: d.state,
        }));
    },
    async volumes(pool) {
      const all = await core.hv.call("pool.list", {});
      if (!all.some((p) => p.name === pool)) return [];
      return (await core.hv.call("volume.list", { pool })).map((v) => v.name);
    },
    close: () => core.close(),
  };
}

/**
 * Compares berth's records (through its API) with libvirt: berth-marked domains and pool volumes no VM
 * accounts for, rows whose domain is missing or marked gone, rows still `creating`.
 */
export async function inconsistencies(
  berth: BerthProcess,
  view: LibvirtView,
  mine: (name: string) => boolean,
): Promise<{
  orphanDomains: string[];
  orphanVolumes: string[];
  rowsWithoutDomain: string[];
  creating: string[];
}> {
  const rows: Json[] = (await berth.get("/v1/vms")).body;
  const ids = new Set(rows.map((v) => v.id));
  const referenced = new Set(rows.flatMap((v) => v.disks.map((d: Json) => d.volume)));
  const domains = await view.domains(mine);
  const byName = new Set(domains.map((d) => d.name));
  return {
    orphanDomains: domains.filter((d) => !d.id || !ids.has(d.id)).map((d) => d.name),
    orphanVolumes: (await view.volumes(berth.storagePool)).filter((v) => !referenced.has(v)),
    rowsWithoutDomain: rows
      .filter((v) => v.status !== "creating" && (v.status === "gone" || !byName.has(v.name)))
      .map((v) => `${v.name} (${v.status})`),
    creating: rows.filter((v) => v.status === "creating").map((v) => v.name),
  };
}

/** Removes whatever a failed run left on the shared libvirtd: our domains, then our storage pool. */
export async function scrub(view: LibvirtView, mine: (name: string) => boolean, pool: string): Promise<void> {
  for (const d of await view.domains(mine)) {
    await removeDomain(view.core, d.name).catch((e) => console.warn(`scrub ${d.name}: ${e}`));
  }
  const pools = await view.core.hv.call("pool.list", {});
  if (!pools.some((p) => p.name === pool)) return;
  for (const v of await view.volumes(pool)) {
    await view.core.hv
      .call("volume.delete", { pool, volume: v })
      .catch((e) => console.warn(`scrub volume ${v}: ${e}`));
  }
  await view.core.hv.call("pool.destroy", { pool }).catch((e) => console.warn(`scrub pool: ${e}`));
  await view.core.hv.call("pool.undefine", { pool }).catch((e) => console.warn(`scrub pool: ${e}`));
}
