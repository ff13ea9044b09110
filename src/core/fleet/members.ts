// Membership: this host's registration under an etcd lease (renewed, refreshed), and the list of live hosts.
import { arch, loadavg, release, type } from "node:os";
import type { Lease } from "etcd3";
import { allocation } from "../../db/allocation.ts";
import { log } from "../../log.ts";
import { BERTH_VERSION } from "../../version.ts";
import { knownHostSize } from "../capacity.ts";
import type { Core } from "../context.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";

/** What a host publishes about itself; placement reads these. */
export interface HostRecord {
  name: string;
  api: string;
  migration_address: string;
  /** Its [fleet] migration_port (0 or absent in older records: libvirt picks the port). */
  migration_port?: number;
  version: string;
  capacity: { cpus: number; memory_mib: number };
  allocation: { vcpus: number; memory_mib: number };
  /** 1-minute load average. */
  load: number;
  vms: number;
  updated_at: string;
  /** The host's kernel release, OS and machine (PVC's node list shows them); absent in older records. */
  kernel?: string;
  os?: string;
  arch?: string;
}

/** Python's platform.machine() names (what PVC showed); Node's os.arch() uses Go-like ones. */
export const MACHINE: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ia32: "i686" };

/** This host's record now, from its database and libvirt's node info. */
export function ownRecord(core: Core, fleet: Fleet): HostRecord {
  const held = allocation(core.db);
  const vms = core.db.query("SELECT count(*) AS n FROM vms WHERE status != 'gone'").get() as { n: number };
  return {
    name: fleet.name,
    api: fleet.api,
    migration_address: fleet.migrationAddress,
    migration_port: fleet.migrationPort,
    version: BERTH_VERSION,
    capacity: knownHostSize(core) ?? { cpus: 0, memory_mib: 0 },
    allocation: { vcpus: held.vcpus, memory_mib: held.memory_mib },
    load: loadavg()[0] ?? 0,
    vms: vms.n,
    updated_at: new Date().toISOString(),
    kernel: release(),
    os: type().toLowerCase(),
    arch: MACHINE[arch()] ?? arch(),
  };
}

/** Every host whose registration is alive, by name. */
export async function liveHosts(fleet: Fleet): Promise<Map<string, HostRecord>> {
  const all = await fleet.etcd
    .getAll()
    .prefix(fleet.hostKey())
    .strings()
    .catch((e) => {
      throw new FleetUnavailable("cannot read the fleet's hosts: etcd is not reachable", { cause: e });
    });
  const hosts = new Map<string, HostRecord>();
  for (const raw of Object.values(all)) {
    const h = JSON.parse(raw) as HostRecord;
    hosts.set(h.name, h);
  }
  return hosts;
}

/**
 * Registers this host under a lease of [fleet] lease_ttl_s (etcd3 keeps it alive) and rewrites its record
 * every third of that; a lost lease (etcd unreachable longer than the TTL) is replaced by a new one.
 */
export function registerHost(core: Core, fleet: Fleet): { stop(): Promise<void> } {
  let lease: Lease | null = null;
  let stopped = false;
  const newLease = () => {
    const l = fleet.etcd.lease(fleet.ttlS, { autoKeepAlive: true });
    l.on("lost", (e) => {
      log.warn("fleet registration lost; registering again", { error: e.message });
      if (lease === l) lease = null;
    });
    return l;
  };
  const publish = async () => {
    lease ??= newLease();
    await lease.put(fleet.hostKey(fleet.name)).value(JSON.stringify(ownRecord(core, fleet)));
  };
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = publish().catch((e) => {
      log.warn("fleet registration not written", { error: e instanceof Error ? e.message : String(e) });
      lease?.release();
      lease = null;
    });
  };
  tick();
  const timer = setInterval(tick, Math.max(1000, (fleet.ttlS * 1000) / 3));
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      // Leaving on purpose: the registration goes at once instead of after the TTL.
      await lease?.revoke().catch((e) => log.warn("fleet lease not revoked", { error: String(e) }));
    },
  };
}
