// A host's domain state (PVC's flush/unflush) in etcd: a flushed host takes no placed VMs; no key means ready.

import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { type HostRecord, liveHosts } from "./members.ts";

/** PVC's node domain states: ready, flush (VMs leaving), flushed (empty), unflush (being readied). */
export const FLUSH_STATES = ["ready", "flush", "flushed", "unflush"] as const;
export type FlushState = (typeof FLUSH_STATES)[number];

const unreachable = (e: unknown) =>
  new FleetUnavailable("cannot read the fleet's domain states: etcd is not reachable", { cause: e });

/** Every host's domain state that is not ready, by host name. */
export async function domainStates(fleet: Fleet): Promise<Map<string, FlushState>> {
  const prefix = fleet.domainStateKey();
  const all = await fleet.etcd
    .getAll()
    .prefix(prefix)
    .strings()
    .catch((e) => {
      throw unreachable(e);
    });
  const out = new Map<string, FlushState>();
  for (const [key, raw] of Object.entries(all)) {
    const state = (JSON.parse(raw) as { state: FlushState }).state;
    if (FLUSH_STATES.includes(state)) out.set(key.slice(prefix.length), state);
  }
  return out;
}

/** Records `host`'s state; ready removes the key (a host never flushed has none). */
export async function setDomainState(fleet: Fleet, host: string, state: FlushState): Promise<void> {
  const key = fleet.domainStateKey(host);
  const write =
    state === "ready"
      ? fleet.etcd.delete().key(key)
      : fleet.etcd.put(key).value(JSON.stringify({ state, at: new Date().toISOString() }));
  await write.catch((e: unknown) => {
    throw new FleetUnavailable("cannot record the domain state: etcd is not reachable", { cause: e });
  });
}

/** Only flush followed by flushed: an unflush or a new flush meanwhile wins. */
export async function markFlushed(fleet: Fleet, host: string): Promise<boolean> {
  const key = fleet.domainStateKey(host);
  const current = await fleet.etcd.get(key).string();
  if (current === null || (JSON.parse(current) as { state: string }).state !== "flush") return false;
  const r = await fleet.etcd
    .if(key, "Value", "==", current)
    .then(fleet.etcd.put(key).value(JSON.stringify({ state: "flushed", at: new Date().toISOString() })))
    .commit();
  return r.succeeded;
}

/** The live hosts a create or move may be placed on by a selector: every one that is not flushed or being flushed. */
export async function placeableHosts(fleet: Fleet): Promise<Map<string, HostRecord>> {
  const [hosts, states] = await Promise.all([liveHosts(fleet), domainStates(fleet)]);
  for (const [name, state] of states) if (state === "flush" || state === "flushed") hosts.delete(name);
  return hosts;
}
