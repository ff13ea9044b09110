// libvirt's state of every domain, held in memory: lifecycle events keep it current, a bulk read refreshes it on (re)connect.

import { HypervisorUnavailable } from "../../errors.ts";
import type { DomainState, LifecycleEvent } from "../../ffi/constants.ts";
import { log } from "../../log.ts";
import type { Hypervisor } from "../hypervisor/client.ts";

/** The state a domain is in after a lifecycle event; undefined: the event says nothing of it. */
export const STATE_AFTER: Partial<Record<LifecycleEvent, DomainState>> = {
  started: "running",
  resumed: "running",
  suspended: "paused",
  pmsuspended: "pmsuspended",
  stopped: "shutoff",
  crashed: "crashed",
};

/** The state a domain is in once berth's own call on it succeeded (its event follows, later). */
const STATE_AFTER_CALL: Record<string, DomainState> = {
  "domain.create": "running",
  "domain.destroy": "shutoff",
  "domain.suspend": "paused",
  "domain.resume": "running",
  "domain.managedSave": "shutoff",
};

/** The calls that define a domain (from XML, or from a spec built into XML in the Worker); they answer its name. */
const DEFINES = new Set(["domain.define", "domain.defineSpec"]);

/** How long a call's own event is awaited before events of other states count again (they come in ms). */
const ECHO_WAIT_MS = 10_000;
/** Events remembered per domain, to tell whether a call's own event already came. */
const RECENT_EVENTS = 4;
/** No events yet (shared: a domain's list is replaced, never changed in place). */
const NO_EVENTS: readonly { state: DomainState | null; at: number }[] = [];

/** One domain's entry: its state (null once undefined), the number of the change that set it, its recent events. */
interface Entry {
  state: DomainState | null;
  seq: number;
  /** The last few lifecycle events' states and performance.now() of arrival, oldest first (none since the last full read). */
  recent: readonly { state: DomainState | null; at: number }[];
  /**
   * Set when berth's own call set the state before that call's event came: until the event with this state
   * arrives (or `until` passes), events of other states are older than the call (libvirt sends one domain's
   * events in order) and are not applied.
   */
  awaiting: { state: DomainState; until: number } | null;
}

/**
 * The state of each domain by name. Each change is numbered; a refresh taken from a bulk read started at
 * `mark()` keeps every entry an event changed after that mark, so an event that lands while the read is
 * in flight is never overwritten by the (older) read.
 */
export class VmStateMap {
  #entries = new Map<string, Entry>();
  #seq = 0;
  #loaded = false;
  /** Bumped on every change: a cache of anything derived from the map is valid while it stays the same. */
  version = 0;

  /** True once a full read has landed (and until the hypervisor connection is lost). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The domain's state; undefined when libvirt has no such domain. */
  get(name: string): DomainState | undefined {
    return this.#entries.get(name)?.state ?? undefined;
  }

  /** The point a bulk read starts from: pass it to `refreshStates` with the read's result. */
  mark(): number {
    return this.#seq;
  }

  /** A domain's state changed (or it was undefined: null), by berth's own call until `applyEvent` says otherwise. */
  set(name: string, state: DomainState | null, awaiting: Entry["awaiting"] = null): void {
    const old = this.#entries.get(name);
    this.#entries.set(name, { state, seq: ++this.#seq, recent: old?.recent ?? NO_EVENTS, awaiting });
    if (old?.state !== state) this.version++;
  }

  /** Applies one lifecycle event: `defined` only names a domain not known yet (as shut off). */
  applyEvent(name: string, event: LifecycleEvent): void {
    if (event === "defined" && this.get(name) !== undefined) return;
    const state = event === "undefined" ? null : event === "defined" ? "shutoff" : STATE_AFTER[event];
    if (state === undefined) return;
    const old = this.#entries.get(name);
    const at = performance.now();
    const recent = [...(old?.recent ?? NO_EVENTS), { state, at }].slice(-RECENT_EVENTS);
    const awaiting = old?.awaiting && old.awaiting.until > at ? old.awaiting : null;
    // An event from before berth's own call (a restart's stop, after its start was answered) changes nothing.
    const stale = awaiting !== null && state !== awaiting.state;
    const next = stale ? (old?.state ?? null) : state;
    this.#entries.set(name, { state: next, seq: ++this.#seq, recent, awaiting: stale ? awaiting : null });
    if (old?.state !== next) this.version++;
  }

  /**
   * Applies a call of berth's that succeeded, sent at `sentAt`: what it did is known before libvirt's
   * event arrives. When the call's own event already came (after `sentAt`), every event since is newer
   * (a guest that crashed at once) and the call tells nothing more. Otherwise each event seen since it was
   * sent is older than the call's effect, and later ones are too until the call's own event arrives.
   */
  applyCall(op: string, args: unknown, value: unknown, sentAt: number): void {
    const defines = DEFINES.has(op);
    const named = defines ? value : args;
    const name = (named as { name?: unknown } | null)?.name;
    if (typeof name !== "string") return;
    if (defines) {
      if (this.get(name) === undefined) this.set(name, "shutoff");
      return;
    }
    const state = STATE_AFTER_CALL[op];
    const recent = this.#entries.get(name)?.recent ?? NO_EVENTS;
    if (state) {
      if (recent.some((e) => e.state === state && e.at >= sentAt)) return;
      this.set(name, state, { state, until: performance.now() + ECHO_WAIT_MS });
    }
    // An undefined domain that still runs (made transient) goes when it stops: its event tells.
    else if (op === "domain.undefine" && this.get(name) === "shutoff" && !recent.some((e) => e.at >= sentAt))
      this.set(name, null);
  }

  /** The hypervisor went away: states are unknown until the next full read. */
  forget(): void {
    this.#loaded = false;
    this.version++;
  }

  /** @internal see refreshStates */
  replace(entries: Iterable<{ name: string; state: DomainState }>, since: number): void {
    const next = new Map<string, Entry>();
    for (const e of entries)
      next.set(e.name, { state: e.state, seq: since, recent: NO_EVENTS, awaiting: null });
    // Changes after the read began are newer than the read: they stay (a deletion stays a deletion).
    for (const [name, e] of this.#entries) if (e.seq > since) next.set(name, e);
    for (const [name, e] of next) if (e.state === null && e.seq <= since) next.delete(name);
    // A read that changes nothing (a reconcile's, each pass) keeps what was derived from the map valid.
    let same = this.#loaded && next.size === this.#entries.size;
    if (same) for (const [name, e] of next) if (this.#entries.get(name)?.state !== e.state) same = false;
    this.#entries = next;
    this.#loaded = true;
    if (!same) this.version++;
  }
}

/**
 * Replaces the whole map with the states of one bulk read (e.g. a reconcile's listing of every domain).
 * `since` is `map.mark()` taken before the read began; events that arrived after it win over the read.
 */
export function refreshStates(
  map: VmStateMap,
  entries: Iterable<{ name: string; state: DomainState }>,
  since: number,
): void {
  map.replace(entries, since);
}

/** One map per hypervisor client, with its refresh in flight (concurrent waiters share it). */
const maps = new WeakMap<Hypervisor, { map: VmStateMap; refreshing: Promise<void> | null }>();

/** One bulk read of every domain's state, applied with the mark taken before it began. */
function readAll(hv: Hypervisor, map: VmStateMap): Promise<void> {
  const since = map.mark();
  return hv.call("domain.states", {}).then(
    // An answer that lands after the connection went down is no news: states stay unknown until the next.
    (list) => (hv.state === "up" ? refreshStates(map, list, since) : undefined),
    (e) => {
      if (!(e instanceof HypervisorUnavailable)) {
        log.warn("domain states could not be read", { error: e instanceof Error ? e.message : String(e) });
      }
    },
  );
}

/**
 * Refreshes the map of `hv`. Concurrent callers share a read in flight, except `fresh` ones: a read that
 * began before the events connection was registered may miss a change, so they queue a new read after it.
 */
function refresh(hv: Hypervisor, fresh = false): Promise<void> {
  const slot = maps.get(hv);
  if (!slot) return Promise.resolve();
  if (slot.refreshing && !fresh) return slot.refreshing;
  const run: Promise<void> = (slot.refreshing ?? Promise.resolve())
    .then(() => readAll(hv, slot.map))
    .finally(() => {
      if (slot.refreshing === run) slot.refreshing = null;
    });
  slot.refreshing = run;
  return run;
}

/** The state map of `hv`, made (subscribed to its events, refreshed on every (re)connect) on first use. */
export function vmStates(hv: Hypervisor): VmStateMap {
  const had = maps.get(hv);
  if (had) return had.map;
  const map = new VmStateMap();
  maps.set(hv, { map, refreshing: null });
  hv.onLifecycle((e) => map.applyEvent(e.name, e.event));
  hv.onCallDone((op, args, value, sentAt) => map.applyCall(op, args, value, sentAt));
  hv.onState((state) => {
    if (state === "down") map.forget();
    else if (state === "up") void refresh(hv);
  });
  // The pump's connection is registered for events: a read from now on misses nothing.
  hv.onEventsConnected(() => void refresh(hv, true));
  if (hv.state === "up") void refresh(hv);
  return map;
}

/**
 * The map, loaded: waits for a full read when none has landed yet and the hypervisor is up; null while
 * the hypervisor is unreachable (states are unknown then).
 */
export async function loadedStates(hv: Hypervisor): Promise<VmStateMap | null> {
  const map = vmStates(hv);
  if (map.loaded) return map;
  if (hv.state !== "up") return null;
  await refresh(hv);
  return map.loaded ? map : null;
}
