// One host's handle on its fleet: the etcd client, this host's identity, and the keys fleet state lives under.
import type { Etcd3 } from "etcd3";
import type { FleetConfig } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";

/** The shortest fleet secret accepted: it is the only thing that lets a host act for a caller on another. */
export const MIN_SECRET = 32;

export class Fleet {
  readonly etcd: Etcd3;
  readonly name: string;
  readonly api: string;
  readonly migrationAddress: string;
  /** The address a recovering host blocklists at Ceph when this host is taken for dead. */
  readonly fenceAddress: string;
  /** Where this host's QEMU takes incoming live migrations; 0: libvirt picks from qemu.conf's range. */
  readonly migrationPort: number;
  readonly secret: string;
  readonly ttlS: number;
  readonly #prefix: string;

  constructor(config: FleetConfig, Client: typeof Etcd3) {
    const missing = (["name", "api", "secret"] as const).filter((k) => config[k] === "");
    if (missing.length > 0) throw new ConfigError(`[fleet] needs ${missing.join(", ")} when etcd is set`);
    if (config.secret.length < MIN_SECRET)
      throw new ConfigError(`[fleet] secret must be at least ${MIN_SECRET} characters`);
    if (config.migration_port !== 0 && config.migration_port < 1024)
      throw new ConfigError(
        `[fleet] migration_port must be 0 (libvirt picks from qemu.conf's migration_port_min..max) or 1024-65535, not ${config.migration_port}`,
      );
    if (config.migration_port !== 0 && config.migration_address === "")
      throw new ConfigError(
        "[fleet] migration_port needs migration_address: the other hosts connect to both",
      );
    this.name = config.name;
    this.migrationPort = config.migration_port;
    this.api = config.api;
    this.migrationAddress = config.migration_address;
    this.fenceAddress = config.fence_address || config.migration_address;
    this.secret = config.secret;
    this.ttlS = config.lease_ttl_s;
    this.#prefix = config.prefix.replace(/\/+$/, "");
    // Calls fail after a few seconds rather than hang a request while etcd has no leader.
    this.etcd = new Client({ hosts: config.etcd, dialTimeout: 3000, defaultCallOptions: callTimeout });
  }

  /** Where a host's registration lives (under its lease). */
  hostKey(host = ""): string {
    return `${this.#prefix}/hosts/${host}`;
  }

  /** Where a VM name's claim lives: the host that holds the VM of that name. */
  nameKey(vm = ""): string {
    return `${this.#prefix}/names/${vm}`;
  }

  /** An owner's quota ledger: one key per VM it owns in the fleet; `vm` empty is the ledger's head (its revision). */
  quotaKey(owner?: string, vm = ""): string {
    const root = `${this.#prefix}/quota/`;
    return owner === undefined ? root : `${root}${encodeURIComponent(owner)}/${vm}`;
  }

  /** Where a host's PVC domain state lives (flush, flushed, unflush; none: ready), kept across restarts. */
  domainStateKey(host = ""): string {
    return `${this.#prefix}/domain-states/${host}`;
  }

  /** The last record the VM's host published (no lease: it outlives the host, so another host can recover the VM). */
  recordKey(vm = ""): string {
    return `${this.#prefix}/records/${vm}`;
  }

  /** What other hosts need to know of a host after it died (its fence address); no lease. */
  nodeKey(host = ""): string {
    return `${this.#prefix}/nodes/${host}`;
  }

  /** A fence a recovering host put on `host` at Ceph; the fenced host lifts it when it is back and clean. */
  fenceKey(host = ""): string {
    return `${this.#prefix}/fences/${host}`;
  }

  close(): void {
    this.etcd.close();
  }
}

// Streams (lease keep-alives) live as long as the host; single calls get a deadline.
const callTimeout = (c: { isStream: boolean }) => (c.isStream ? {} : { deadline: Date.now() + 5000 });

/**
 * The fleet `config` describes, or null for a single host (no etcd endpoints). The etcd client (gRPC,
 * ~36 MB of resident memory once loaded) is loaded only by a host that joins a fleet.
 */
export async function openFleet(config: FleetConfig): Promise<Fleet | null> {
  if (config.etcd.length === 0) return null;
  const { Etcd3 } = await import("etcd3");
  return new Fleet(config, Etcd3);
}
