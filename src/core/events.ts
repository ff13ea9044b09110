// The event bus: berth's own actions and libvirt's lifecycle events, fanned out to /v1/events listeners.
import { log } from "../log.ts";

export interface BerthEvent {
  id: number;
  time: string;
  /** e.g. "vm.created", "vm.started", "operation.progress", "domain.lifecycle". */
  type: string;
  /** What it is about: "vm/web-1", "operation/<id>", "image/debian". */
  target: string;
  data: Record<string, unknown>;
}

type Listener = (e: BerthEvent) => void;

/** Where ids are kept across restarts: the last id reserved, and reserving up to a new one (durably). */
export interface EventIdStore {
  reserved(): number;
  reserve(upTo: number): void;
}

/** Ids are reserved this many at a time: one write per block, and a restart skips at most one block. */
export const ID_BLOCK = 1000;

export class EventBus {
  #seq = 0;
  #reservedUpTo = Number.POSITIVE_INFINITY;
  #listeners = new Set<Listener>();
  /** Recent events, so a reconnecting client can resume from Last-Event-ID. */
  #recent: BerthEvent[] = [];

  constructor(
    private readonly keep = 1000,
    private readonly store?: EventIdStore,
  ) {
    // With a store, ids go on after every id an earlier run reserved, so Last-Event-ID never goes back.
    if (store) {
      this.#seq = store.reserved();
      this.#reservedUpTo = this.#seq;
    }
  }

  #nextId(): number {
    const id = ++this.#seq;
    if (id > this.#reservedUpTo) {
      this.#reservedUpTo = id + ID_BLOCK - 1;
      this.store?.reserve(this.#reservedUpTo);
    }
    return id;
  }

  publish(type: string, target: string, data: Record<string, unknown> = {}): BerthEvent {
    const e: BerthEvent = { id: this.#nextId(), time: new Date().toISOString(), type, target, data };
    this.#recent.push(e);
    if (this.#recent.length > this.keep) this.#recent.shift();
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        // A failing listener must not fail the action that published (nor the other listeners).
        log.error("event listener failed", {
          type,
          target,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return e;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Events after `id` still in memory (for resuming a stream). */
  since(id: number): BerthEvent[] {
    return this.#recent.filter((e) => e.id > id);
  }
}
