// ConsoleStream: a domain's serial console as a non-blocking virStream (virDomainOpenConsole), read by polling.
import { type Pointer, ptr } from "bun:ffi";
import type { Connection } from "./connect.ts";
import type { Domain } from "./domain.ts";
import { lastError } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";

const VIR_STREAM_NONBLOCK = 1;
/** virDomainConsoleFlags: FORCE takes the console from another session; SAFE refuses unsafe console types. */
export const ConsoleFlags = { FORCE: 1, SAFE: 2 } as const;

/** What a non-blocking read gave: bytes, nothing yet, or the end of the stream. */
export type StreamRead = Uint8Array | "again" | "eof";

export class ConsoleStream extends Handle {
  /** Read buffer the stream owns; `ptr(buf)` does not keep it alive, the field does. */
  readonly #buf = Buffer.alloc(64 * 1024);
  #done = false;

  private constructor(p: Pointer) {
    super(p, (q) => sym.virStreamFree(q));
  }

  /** virStreamNew (non-blocking) + virDomainOpenConsole on the domain's first console; FORCE takes it over. */
  static open(conn: Connection, domain: Domain, force: boolean): ConsoleStream {
    const p = sym.virStreamNew(conn[RAW](), VIR_STREAM_NONBLOCK) as Pointer | null;
    if (!p) throw lastError("virStreamNew failed");
    const stream = new ConsoleStream(p);
    const rc = sym.virDomainOpenConsole(domain[RAW](), null, p, force ? ConsoleFlags.FORCE : 0);
    if (rc < 0) {
      const err = lastError("virDomainOpenConsole failed");
      stream.free();
      throw err;
    }
    return stream;
  }

  /** virStreamRecv: the bytes waiting (a copy), "again" when none are, "eof" when the console closed. */
  recv(): StreamRead {
    const n = sym.virStreamRecv(this[RAW](), ptr(this.#buf), this.#buf.length);
    if (n === -2) return "again";
    if (n === 0) return "eof";
    if (n < 0) throw lastError("virStreamRecv failed");
    return this.#buf.subarray(0, n).slice();
  }

  /** virStreamSend: how many bytes the stream took (0 when it would block). */
  send(data: Uint8Array): number {
    if (data.length === 0) return 0;
    const n = sym.virStreamSend(this[RAW](), ptr(data), data.length);
    if (n === -2) return 0;
    if (n < 0) throw lastError("virStreamSend failed");
    return n;
  }

  /** virStreamFinish after EOF, else virStreamAbort; then virStreamFree. Never throws, idempotent. */
  close(eof: boolean): void {
    if (this.freed) return;
    if (!this.#done) {
      this.#done = true;
      const rc = eof ? sym.virStreamFinish(this[RAW]()) : sym.virStreamAbort(this[RAW]());
      if (rc < 0) lastError(); // read and reset: a stream whose console went away cannot finish cleanly
    }
    this.free();
  }
}
