// The HTTP thread's side of serial consoles: one console Worker, at most one session per VM, every session ended on reset.
import { type AppError, Conflict, HypervisorTimeout, HypervisorUnavailable } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { FromConsole, ToConsole } from "./console-protocol.ts";
import type { WireError } from "./protocol.ts";

/** How long a Worker gets to abort its streams and close its connection before it is cut. */
const STOP_GRACE_MS = 2000;

export interface ConsoleHandlers {
  /** Bytes the guest wrote to its console. */
  data(bytes: Uint8Array): void;
  /** The session is over (VM stopped, taken over, hypervisor reset, berth stopping); called once, not after close(). */
  end(reason: string): void;
}

export interface ConsoleSession {
  readonly vm: string;
  write(bytes: Uint8Array): void;
  /** Ends the session from this side (the client left); idempotent. */
  close(): void;
}

interface Live {
  vm: string;
  handlers: ConsoleHandlers;
  opened: boolean;
  settle?: { resolve: () => void; reject: (e: Error) => void; timer: Timer };
}

export class ConsoleHub {
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #live = new Map<number, Live>();
  readonly #byVm = new Map<string, number>();
  #closed = false;

  constructor(
    private readonly workerUrl: string,
    private readonly uri: string,
    private readonly openTimeoutMs: number,
    /** The hypervisor client's mapping of Worker errors (client.ts fromWire). */
    private readonly fromWire: (e: WireError, op: string) => AppError,
  ) {}

  /** Open sessions, by VM name (for tests and metrics). */
  sessions(): string[] {
    return [...this.#byVm.keys()];
  }

  /**
   * Opens the console of domain `vm`. A VM has one session at a time: a second is 409 unless `force`,
   * which ends the first (its client sees the reason). libvirt refuses a console held elsewhere (409 too).
   */
  async open(vm: string, force: boolean, handlers: ConsoleHandlers): Promise<ConsoleSession> {
    if (this.#closed) throw new HypervisorUnavailable("berth is shutting down");
    const held = this.#byVm.get(vm);
    if (held !== undefined) {
      if (!force) throw new Conflict(`vm ${vm} already has a console session (an admin may take it over)`);
      this.#end(held, "an admin took the console over");
    }
    const id = this.#nextId++;
    const live: Live = { vm, handlers, opened: false };
    this.#live.set(id, live);
    this.#byVm.set(vm, id); // reserved before the await: a concurrent second attach is 409 too
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          id,
          new HypervisorTimeout(`opening the console of ${vm} took over ${this.openTimeoutMs} ms`),
        );
        this.reset("the console Worker hung and was replaced", true);
      }, this.openTimeoutMs);
      live.settle = { resolve, reject, timer };
      this.#send({ type: "console-open", id, name: vm, force });
    });
    return {
      vm,
      write: (bytes) => {
        if (this.#live.get(id) === live && bytes.length > 0)
          this.#send({ type: "console-write", id, data: bytes });
      },
      close: () => {
        if (this.#live.get(id) !== live) return;
        this.#forget(id);
        this.#send({ type: "console-close", id });
      },
    };
  }

  /**
   * Ends every session and stops the Worker (hypervisor down, Worker hung, berth stopping); the next open
   * starts a new one. A live Worker aborts its streams and closes its connection first; a hung one is cut.
   */
  reset(reason: string, hung = false): Promise<void> {
    for (const id of [...this.#live.keys()]) this.#end(id, reason);
    const w = this.#worker;
    this.#worker = null;
    if (!w) return Promise.resolve();
    if (hung) {
      w.terminate();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        w.terminate();
        resolve();
      };
      const timer = setTimeout(done, STOP_GRACE_MS);
      w.onmessage = (ev: MessageEvent<FromConsole>) => {
        if (ev.data.type === "console-stopped") done();
      };
      w.postMessage({ type: "console-stop" } satisfies ToConsole);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.reset("berth is shutting down");
  }

  #send(m: ToConsole): void {
    if (!this.#worker) {
      const w = new Worker(this.workerUrl);
      w.onmessage = (ev: MessageEvent<FromConsole>) => this.#onMessage(ev.data);
      w.onerror = (ev) => {
        if (this.#worker === w) this.reset(`the console Worker failed: ${ev.message}`);
      };
      w.postMessage({ type: "init", uri: this.uri } satisfies ToConsole);
      this.#worker = w;
    }
    this.#worker.postMessage(m);
  }

  #onMessage(m: FromConsole): void {
    if (m.type === "console-stopped") return;
    const live = this.#live.get(m.id);
    if (!live) return; // a session this side already closed
    if (m.type === "console-opened") {
      live.opened = true;
      if (live.settle) clearTimeout(live.settle.timer);
      live.settle?.resolve();
      live.settle = undefined;
    } else if (m.type === "console-failed") {
      const e = this.fromWire(m.error, "console.open");
      // libvirt's own one-session rule (a console held by virsh or another berth): 409 as ours.
      const taken = m.error.libvirtCode === ErrorCode.OPERATION_FAILED && /console/i.test(m.error.message);
      this.#fail(m.id, taken ? new Conflict(`vm ${live.vm}: ${m.error.message}`) : e);
    } else if (m.type === "console-data") {
      live.handlers.data(m.data);
    } else {
      this.#forget(m.id);
      live.handlers.end(m.reason);
    }
  }

  #fail(id: number, e: Error): void {
    const live = this.#live.get(id);
    if (!live) return;
    this.#forget(id);
    if (live.settle) clearTimeout(live.settle.timer);
    live.settle?.reject(e);
  }

  /** Ends a session from this side: the Worker closes its stream, the client hears `reason`. */
  #end(id: number, reason: string): void {
    const live = this.#live.get(id);
    if (!live) return;
    if (!live.opened) {
      this.#fail(id, new HypervisorUnavailable(reason));
      return;
    }
    this.#forget(id);
    this.#worker?.postMessage({ type: "console-close", id } satisfies ToConsole);
    live.handlers.end(reason);
  }

  #forget(id: number): void {
    const live = this.#live.get(id);
    this.#live.delete(id);
    if (live && this.#byVm.get(live.vm) === id) this.#byVm.delete(live.vm);
  }
}
