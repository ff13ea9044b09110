// Counts open event streams per client and in total, so a flood of listeners cannot exhaust the process.
import { AppError } from "../errors.ts";

/** 503: the client, or berth as a whole, already holds as many event streams as the limits allow. */
export class TooManyStreams extends AppError {
  constructor(message: string, details: Record<string, unknown>) {
    super(503, "too_many_streams", message, { details });
  }
}

/** Frees the slot a stream held; calling it more than once frees it once. */
export type Release = () => void;

export class StreamSlots {
  #total = 0;
  readonly #perClient = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerClient: number,
  ) {}

  /** Takes a slot for `client` (e.g. "user:alice", "address:10.0.0.7"), or throws TooManyStreams. */
  acquire(client: string): Release {
    const held = this.#perClient.get(client) ?? 0;
    if (held >= this.maxPerClient) {
      throw new TooManyStreams(
        `this client already has ${held} open event streams (limits.max_event_streams_per_client); close one first`,
        { limit: this.maxPerClient, scope: "client" },
      );
    }
    if (this.#total >= this.maxTotal) {
      throw new TooManyStreams(
        `berth already serves ${this.#total} event streams (limits.max_event_streams); try again later`,
        { limit: this.maxTotal, scope: "total" },
      );
    }
    this.#perClient.set(client, held + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left > 0) this.#perClient.set(client, left);
      else this.#perClient.delete(client);
    };
  }

  /** Streams open now, over all clients. */
  get open(): number {
    return this.#total;
  }

  /** Streams `client` holds now. */
  heldBy(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }
}
