// berth teardown: before a purge deletes the data directory, stop and undefine this installation's VMs, networks and storage pool.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseListen } from "../config/listen.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { openHypervisor } from "../core/hypervisor/open.ts";
import { poolDir } from "../core/paths.ts";
import { isLibvirt } from "../core/storage-pool.ts";
import { instanceId } from "../db/host-meta.ts";
import { listNetworkRows } from "../db/networks.ts";
import { DB_FILE, openDatabase } from "../db/open.ts";
import { AppError } from "../errors.ts";
import { DomainUndefineFlags } from "../ffi/constants.ts";
import { ErrorCode } from "../ffi/error.ts";
import type { WorkerUrls } from "../server.ts";
import { attrOf, fromXml, textOf } from "../xml/codec.ts";
import { BERTH_NS } from "../xml/domain.ts";
import { readBerthMark } from "../xml/domain-read.ts";

const UNDEFINE_ALL =
  DomainUndefineFlags.MANAGED_SAVE | DomainUndefineFlags.SNAPSHOTS_METADATA | DomainUndefineFlags.NVRAM;

/** A refusal: nothing more is removed, and the message says why. */
class Refused extends AppError {
  constructor(message: string) {
    super(409, "teardown_refused", message);
  }
}

/** Refuses while something (berth) listens on the config's address: a running berth would recreate what goes. */
function assertStopped(config: Config): void {
  const { hostname, port } = parseListen(config.listen);
  try {
    Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
  } catch (e) {
    if ((e as { code?: unknown }).code === "EADDRINUSE")
      throw new Refused(`something (berth?) still listens on ${config.listen}: stop berth first`);
    throw e;
  }
}

type Hv = ReturnType<typeof openHypervisor>;

/** The domains this installation made: berth's metadata naming this instance (or, written before instances were recorded, one of its VM ids). */
async function ourDomains(hv: Hv, instance: string, ids: Set<string>) {
  const all = await hv.call("domain.list", { metadataUri: BERTH_NS });
  return all.filter((d) => {
    const mark = d.metadata ? readBerthMark(d.metadata) : null;
    if (!mark) return false;
    return mark.instance === null ? ids.has(mark.id) : mark.instance === instance;
  });
}

async function removeDomain(hv: Hv, name: string, state: string, say: (s: string) => void): Promise<void> {
  if (state !== "shutoff") {
    try {
      await hv.call("domain.destroy", { name });
    } catch (e) {
      if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // stopped meanwhile
    }
    say(`stopped domain ${name}`);
  }
  try {
    await hv.call("domain.undefine", { name, flags: UNDEFINE_ALL });
  } catch (e) {
    if (!isLibvirt(e, ErrorCode.INVALID_ARG)) throw e; // drivers without NVRAM refuse the flag
    await hv.call("domain.undefine", { name, flags: UNDEFINE_ALL & ~DomainUndefineFlags.NVRAM });
  }
  say(`undefined domain ${name}`);
}

/** berth's networks by its own record, each only when libvirt's still has the bridge berth recorded. */
async function removeNetworks(hv: Hv, rows: { name: string; bridge: string }[], say: (s: string) => void) {
  const present = new Set((await hv.call("network.list", {})).map((n) => n.name));
  for (const row of rows) {
    if (!present.has(row.name)) continue;
    const xml = fromXml(await hv.call("network.xml", { name: row.name })) as {
      network?: { bridge?: unknown };
    };
    const bridge = attrOf(xml.network?.bridge, "name");
    if (bridge !== row.bridge) {
      say(`left network ${row.name} alone: its bridge is ${bridge ?? "none"}, berth recorded ${row.bridge}`);
      continue;
    }
    try {
      await hv.call("network.destroy", { name: row.name });
    } catch (e) {
      if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // not active
    }
    await hv.call("network.undefine", { name: row.name });
    say(`removed network ${row.name}`);
  }
}

/**
 * berth's storage pool, checked before anything is removed: null when libvirt has none of that name;
 * a refusal when its directory is not the one this config names (another installation's pool).
 */
async function ourPool(
  hv: Hv,
  config: Config,
): Promise<{ name: string; active: boolean; path: string } | null> {
  const name = config.storage.pool;
  const pool = (await hv.call("pool.list", {})).find((p) => p.name === name);
  if (!pool) return null;
  const xml = fromXml(await hv.call("pool.xml", { pool: name })) as {
    pool?: { target?: { path?: unknown } };
  };
  const path = (textOf(xml.pool?.target?.path) ?? "").trim();
  if (path !== poolDir(config)) {
    throw new Refused(
      `libvirt's storage pool ${name} is ${path}, not ${poolDir(config)}: another installation's? Nothing was removed`,
    );
  }
  return { ...pool, path };
}

async function removePool(
  hv: Hv,
  pool: { name: string; active: boolean; path: string },
  say: (s: string) => void,
) {
  if (pool.active) await hv.call("pool.destroy", { pool: pool.name });
  await hv.call("pool.undefine", { pool: pool.name });
  say(`removed storage pool ${pool.name} (${pool.path}); its files go with the data directory`);
}

/** Runs the teardown; 0 when everything of this installation is gone from libvirt, 1 (and why) otherwise. */
export async function runTeardown(configPath: string | undefined, urls: WorkerUrls): Promise<number> {
  const say = (s: string) => console.log(`berth teardown: ${s}`);
  let hv: Hv | null = null;
  try {
    const config = await loadConfig({ path: configPath });
    if (!existsSync(join(config.data_dir, DB_FILE))) {
      say(`no database in ${config.data_dir}: berth never ran here, nothing of it is in libvirt`);
      return 0;
    }
    assertStopped(config);
    const db = openDatabase(config.data_dir);
    const instance = instanceId(db);
    const ids = new Set((db.query("SELECT id FROM vms").all() as { id: string }[]).map((r) => r.id));
    const networks = listNetworkRows(db);
    db.close();
    hv = openHypervisor(config, urls);
    await hv.start();
    if (hv.state !== "up")
      throw new Refused(
        `libvirt (${config.hypervisor.uri}) is unreachable: ${hv.reason}; cannot stop berth's VMs`,
      );
    const pool = await ourPool(hv, config);
    // The VMs first: a running VM's disk is never removed under it.
    for (const d of await ourDomains(hv, instance, ids)) await removeDomain(hv, d.name, d.state, say);
    const left = await ourDomains(hv, instance, ids);
    if (left.length > 0) throw new Refused(`domains still defined: ${left.map((d) => d.name).join(", ")}`);
    await removeNetworks(hv, networks, say);
    if (pool) await removePool(hv, pool, say);
    say("done: no VM, network or storage pool of this installation is left in libvirt");
    return 0;
  } catch (e) {
    console.error(`berth teardown: refused: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await hv?.close();
  }
}
