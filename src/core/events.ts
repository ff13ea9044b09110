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

export class EventBus {
  #seq = 0;
  #listeners = new Set<Listener>();
  /** Recent events, so a reconnecting client can resume from Last-Event-ID. */
  #recent: BerthEvent[] = [];

  constructor(private readonly keep = 1000) {}

  publish(type: string, target: string, data: Record<string, unknown> = {}): BerthEvent {
    const e: BerthEvent = { id: ++this.#seq, time: new Date().toISOString(), type, target, data };
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
