// Runs inside the console Worker: open console streams, polled without blocking, bytes posted to the HTTP thread.
import { type Connection, ConsoleStream } from "../../ffi/index.ts";
import type { FromConsole, ToConsole } from "./console-protocol.ts";
import type { WireError } from "./protocol.ts";

interface Session {
  stream: ConsoleStream;
  /** Input the stream has not taken yet (it would have blocked). */
  pending: Uint8Array[];
}

/** A busy console is read again at once; an idle one every IDLE_MS (input is written as it arrives). */
const IDLE_MS = 10;
/** At most this many reads per session per round, so one chatty console cannot starve the others. */
const READS_PER_ROUND = 16;

export class ConsoleSessions {
  readonly #sessions = new Map<number, Session>();
  #timer: Timer | null = null;

  constructor(
    private readonly post: (m: FromConsole) => void,
    private readonly toWire: (e: unknown) => WireError,
  ) {}

  /** `drop` closes the Worker's connection (after console-stop has ended every stream). */
  handle(conn: () => Connection, drop: () => void, msg: Exclude<ToConsole, { type: "init" }>): void {
    if (msg.type === "console-open") this.#open(conn, msg.id, msg.name, msg.force);
    else if (msg.type === "console-write") this.#write(msg.id, msg.data);
    else if (msg.type === "console-close") this.#end(msg.id, null, false);
    else {
      for (const id of [...this.#sessions.keys()]) this.#end(id, null, false);
      drop();
      this.post({ type: "console-stopped" });
    }
  }

  /** Every stream ends (the connection is being dropped, or the Worker stops). */
  endAll(reason: string): void {
    for (const id of [...this.#sessions.keys()]) this.#end(id, reason, false);
  }

  #open(conn: () => Connection, id: number, name: string, force: boolean): void {
    try {
      const c = conn();
      using domain = c.domainByName(name);
      const stream = ConsoleStream.open(c, domain, force);
      this.#sessions.set(id, { stream, pending: [] });
      this.post({ type: "console-opened", id });
      this.#schedule(0);
    } catch (e) {
      this.post({ type: "console-failed", id, error: this.toWire(e) });
    }
  }

  #write(id: number, data: Uint8Array): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    s.pending.push(data);
    this.#flush(id, s);
  }

  #flush(id: number, s: Session): void {
    try {
      while (s.pending.length > 0) {
        const head = s.pending[0] as Uint8Array;
        const n = s.stream.send(head);
        if (n === 0) return; // would block: retried on the next poll
        if (n < head.length) s.pending[0] = head.subarray(n);
        else s.pending.shift();
      }
    } catch (e) {
      this.#end(id, `console write failed: ${(e as Error).message}`, false);
    }
  }

  /** Closes the stream; `reason` null means the HTTP thread asked, so nothing is posted back. */
  #end(id: number, reason: string | null, eof: boolean): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    s.stream.close(eof);
    if (reason !== null) this.post({ type: "console-end", id, reason });
  }

  #schedule(ms: number): void {
    if (this.#timer || this.#sessions.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#poll();
    }, ms);
  }

  #poll(): void {
    let busy = false;
    for (const [id, s] of this.#sessions) {
      if (s.pending.length > 0) this.#flush(id, s);
      if (!this.#sessions.has(id)) continue;
      try {
        for (let i = 0; i < READS_PER_ROUND; i++) {
          const got = s.stream.recv();
          if (got === "again") break;
          if (got === "eof") {
            this.#end(id, "the console closed (the VM stopped)", true);
            break;
          }
          busy = true;
          this.post({ type: "console-data", id, data: got });
        }
      } catch (e) {
        this.#end(id, `console read failed: ${(e as Error).message}`, false);
      }
    }
    this.#schedule(busy ? 0 : IDLE_MS);
  }
}
