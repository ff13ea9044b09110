// A host's share of the fleet pools' stock: its ready VMs published in etcd under a lease of its own, one sync at a time.
import type { Lease } from "etcd3";
import { fleetReadyMembers } from "../../db/fleet-pools.ts";
import type { Core } from "../context.ts";
import type { Fleet } from "./fleet.ts";
import { type ReadyValue, readPoolEntries, readyKey, takenKey } from "./pools-keys.ts";

const chains = new WeakMap<Core, Promise<unknown>>();

/**
 * Runs `fn` after every earlier one of this host: publishing reads SQLite then writes etcd, and a record
 * in between could make it publish a VM just checked out; so publishing and recording never interleave.
 */
export function exclusive<T>(core: Core, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(core) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  chains.set(
    core,
    next.catch(() => {}),
  );
  return next;
}

/**
 * Makes etcd show exactly this host's ready VMs of fleet pools: a missing one is put under `leaseId` only
 * if neither its ready key nor its taken key exists (a VM a checkout took stays taken), and one no longer
 * ready here is withdrawn only at the revision read (a checkout may have taken it meanwhile).
 */
export async function syncStock(
  core: Core,
  fleet: Fleet,
  leaseId: string,
): Promise<{ published: number; withdrawn: number }> {
  const local = new Map(fleetReadyMembers(core.db).map((m) => [`${m.pool}/${m.vm_name}`, m]));
  const mine = new Map<string, { pool: string; vm: string; mod: string }>();
  const taken = new Set<string>();
  for (const k of await readPoolEntries(fleet, "the fleet pools' stock")) {
    const id = `${k.pool}/${k.vm}`;
    if (k.kind === "taken") taken.add(id);
    else if ((JSON.parse(k.value) as ReadyValue).host === fleet.name)
      mine.set(id, { pool: k.pool, vm: k.vm, mod: k.mod });
  }
  let published = 0;
  let withdrawn = 0;
  for (const [id, m] of local) {
    if (mine.has(id) || taken.has(id)) continue;
    const ready = readyKey(fleet, m.pool, m.vm_name);
    const value: ReadyValue = { host: fleet.name, ready_at: m.ready_at };
    const tx = await fleet.etcd
      .if(ready, "Create", "==", 0)
      .and(takenKey(fleet, m.pool, m.vm_name), "Create", "==", 0)
      .then(fleet.etcd.put(ready).value(JSON.stringify(value)).lease(leaseId))
      .commit();
    if (tx.succeeded) published++;
  }
  for (const [id, k] of mine) {
    if (local.has(id)) continue;
    const ready = readyKey(fleet, k.pool, k.vm);
    const tx = await fleet.etcd.if(ready, "Mod", "==", k.mod).then(fleet.etcd.delete().key(ready)).commit();
    if (tx.succeeded) withdrawn++;
  }
  return { published, withdrawn };
}

/** The lease this host's stock lives under: replaced when lost (its keys went with it; the next sync puts them back). */
export class StockLease {
  #lease: Lease | null = null;
  constructor(readonly fleet: Fleet) {}

  async id(): Promise<string> {
    if (!this.#lease) {
      const l = this.fleet.etcd.lease(this.fleet.ttlS, { autoKeepAlive: true });
      l.on("lost", () => {
        if (this.#lease === l) this.#lease = null;
      });
      this.#lease = l;
    }
    const l = this.#lease;
    try {
      return await l.grant();
    } catch (e) {
      if (this.#lease === l) this.#lease = null;
      throw e;
    }
  }

  /** Leaving on purpose: this host's stock goes at once. */
  async revoke(): Promise<void> {
    const l = this.#lease;
    this.#lease = null;
    await l?.revoke();
  }
}
