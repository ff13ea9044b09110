// The HTTP thread's handle on libvirt: typed calls dispatched to Workers, deadlines, reconnect with backoff.

import {
  AppError,
  HypervisorError,
  HypervisorTimeout,
  HypervisorUnavailable,
  InsufficientStorage,
  isNoSpace,
} from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { ConsoleHub } from "./console-hub.ts";
import { LONG_OPS, type OpArgs, type OpName, type OpResult } from "./ops/index.ts";
import type { FromPump, FromWorker, PumpEvent, ToWorker, WireError } from "./protocol.ts";
import { attachPump, type PumpLink } from "./pump.ts";

export type HypervisorState = "connecting" | "up" | "down";

export interface HypervisorOptions {
  uri: string;
  workerUrl: string;
  pumpUrl?: string;
  /** At most this many Workers: one runs from the start, more while calls queue on every one. */
  workers: number;
  /** A Worker beyond the first that answered nothing for this long is ended (default 30 s). */
  idleWorkerMs?: number;
  callTimeoutMs: number;
  longCallTimeoutMs: number;
  reconnectMaxMs: number;
}

export type LifecycleListener = (e: Extract<PumpEvent, { type: "lifecycle" }>) => void;
export type StateListener = (state: HypervisorState, reason: string) => void;
/** Told of each call that succeeded, as its caller is answered (what berth itself just did to a domain); `sentAt` is performance.now() at dispatch. */
export type CallListener = (op: string, args: unknown, value: unknown, sentAt: number) => void;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: Timer;
  op: string;
  args: unknown;
  sentAt: number;
}

/** One Worker and the calls waiting on it. */
class Slot {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  constructor(url: string, uri: string, onMessage: (slot: Slot, m: FromWorker) => void) {
    this.worker = new Worker(url);
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(this, ev.data);
    this.send({ type: "init", uri });
  }
  #long = 0;
  /** performance.now() of the last call sent or answered here. */
  usedAt = performance.now();
  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }
  add(id: number, p: Pending): void {
    this.pending.set(id, p);
    if (LONG_OPS.has(p.op as OpName)) this.#long++;
  }
  /** Removes and returns the call `id` (undefined when it was already settled). */
  take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.usedAt = performance.now();
    this.pending.delete(id);
    if (LONG_OPS.has(p.op as OpName)) this.#long--;
    return p;
  }
  clear(): void {
    this.pending.clear();
    this.#long = 0;
  }
  /** Long calls queued on this Worker (a quick call sent here waits for them); counted, as every call asks. */
  longPending(): number {
    return this.#long;
  }
}

/** Maps a Worker's wire error to berth's error model; LibvirtError codes stay visible in details. */
export function fromWire(e: WireError, op: string): AppError {
  const details = { op, libvirtCode: e.libvirtCode, libvirtDomain: e.libvirtDomain };
  if (e.kind === "unavailable")
    return new HypervisorUnavailable(`hypervisor unavailable: ${e.message}`, { details });
  if (e.kind === "internal") return new AppError(500, "internal", `${op} failed: ${e.message}`, { details });
  // qemu-img or libvirt hit ENOSPC in the storage pool: the client's answer is 507, not a hypervisor fault.
  if (isNoSpace(e.message))
    return new InsufficientStorage(`${op}: out of disk space: ${e.message}`, { details });
  return new HypervisorError(e.message, { details });
}

/** From this many Workers on, the first one is kept for quick calls. */
const QUICK_LANE_MIN_WORKERS = 3;
const IDLE_WORKER_MS = 30_000;

export type CallOutcome = "ok" | "error" | "timeout";
/** Told of every call's duration and outcome (metrics). */
type CallTimingListener = (op: string, seconds: number, outcome: CallOutcome) => void;

export class Hypervisor {
  #slots: Slot[] = [];
  #pump: PumpLink | null = null;
  #nextId = 1;
  #state: HypervisorState = "connecting";
  #reason = "starting";
  #backoffMs = 0;
  #reconnectTimer: Timer | null = null;
  #reapTimer: Timer | null = null;
  #closed = false;
  readonly #lifecycle = new Set<LifecycleListener>();
  readonly #stateListeners = new Set<StateListener>();
  readonly #eventsConnected = new Set<() => void>();
  readonly #callListeners = new Set<CallListener>();
  readonly #timingListeners = new Set<CallTimingListener>();

  /** Interactive serial consoles: their own Worker, ended when the connection resets or berth stops. */
  readonly consoles: ConsoleHub;

  constructor(readonly opts: HypervisorOptions) {
    this.consoles = new ConsoleHub(opts.workerUrl, opts.uri, opts.callTimeoutMs, fromWire);
  }

  get state(): HypervisorState {
    return this.#state;
  }

  get reason(): string {
    return this.#reason;
  }

  /** Workers running now (one when idle; up to `workers` while calls queue). */
  get workerCount(): number {
    return this.#slots.length;
  }

  /** Starts one Worker and tries to connect once; berth serves (with 503s) even if libvirtd is down. */
  async start(): Promise<void> {
    this.#slots.push(this.#spawn());
    const idleMs = this.opts.idleWorkerMs ?? IDLE_WORKER_MS;
    this.#reapTimer = setInterval(() => this.#reapIdle(idleMs), Math.max(10, idleMs / 2));
    this.#reapTimer.unref();
    if (this.opts.pumpUrl) this.#pump = attachPump(this.opts.pumpUrl, (m) => this.#onPump(m));
    await this.#probe();
  }

  onLifecycle(fn: LifecycleListener): () => void {
    this.#lifecycle.add(fn);
    return () => this.#lifecycle.delete(fn);
  }

  /** Called each time the event pump's connection is registered for events (a read after it misses none). */
  onEventsConnected(fn: () => void): () => void {
    this.#eventsConnected.add(fn);
    return () => this.#eventsConnected.delete(fn);
  }

  onCallDone(fn: CallListener): () => void {
    this.#callListeners.add(fn);
    return () => this.#callListeners.delete(fn);
  }

  onState(fn: StateListener): () => void {
    this.#stateListeners.add(fn);
    return () => this.#stateListeners.delete(fn);
  }

  /** Told of every call that reached a Worker, once it ends: how long it took and how (the metrics). */
  onCall(fn: CallTimingListener): () => void {
    this.#timingListeners.add(fn);
    return () => this.#timingListeners.delete(fn);
  }

  /** Runs `op` in a Worker. Fails at once with 503 while the hypervisor is down. */
  call<K extends OpName>(
    op: K,
    args: OpArgs<K>,
    opts: { timeoutMs?: number } = {},
  ): Promise<Awaited<OpResult<K>>> {
    if (this.#closed) return Promise.reject(new HypervisorUnavailable("berth is shutting down"));
    if (this.#state === "down") {
      return Promise.reject(new HypervisorUnavailable(`hypervisor unavailable: ${this.#reason}`));
    }
    const p = this.#dispatch(op, args, opts.timeoutMs) as Promise<Awaited<OpResult<K>>>;
    if (this.#timingListeners.size > 0) {
      const t0 = performance.now();
      const done = (outcome: CallOutcome) => {
        for (const fn of this.#timingListeners) fn(op, (performance.now() - t0) / 1000, outcome);
      };
      p.then(
        () => done("ok"),
        (e) => done(e instanceof HypervisorTimeout ? "timeout" : "error"),
      );
    }
    return p;
  }

  #dispatch(op: string, args: unknown, timeoutMs?: number, slot = this.#slotFor(op)): Promise<unknown> {
    const id = this.#nextId++;
    const deadline =
      timeoutMs ?? (LONG_OPS.has(op as OpName) ? this.opts.longCallTimeoutMs : this.opts.callTimeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#timedOut(slot, id, deadline), deadline);
      slot.add(id, { resolve, reject, timer, op, args, sentAt: performance.now() });
      slot.usedAt = performance.now();
      slot.send({ type: "call", id, op, args });
    });
  }

  /**
   * Where a call goes. Quick calls prefer a Worker without a long call (start, destroy, volume copies: up
   * to seconds) queued; with 3 Workers or more, long calls never take the first one, so a list or a
   * lookup never waits behind a storm of creates. With fewer, long calls keep every Worker. When every
   * candidate already has a call and fewer than `workers` run, a new Worker takes it.
   */
  #slotFor(op: string): Slot {
    const first = this.#slots[0];
    if (!first) throw new HypervisorUnavailable("hypervisor client is not started");
    const long = LONG_OPS.has(op as OpName);
    const candidates =
      long && this.opts.workers >= QUICK_LANE_MIN_WORKERS ? this.#slots.slice(1) : this.#slots;
    const cost = (s: Slot) => (long ? 0 : s.longPending() * 1000) + s.pending.size;
    let best = candidates[0];
    let least = best ? cost(best) : Number.POSITIVE_INFINITY;
    for (const s of candidates) {
      const c = cost(s);
      if (c < least) {
        best = s;
        least = c;
      }
    }
    if (best && least === 0) return best;
    if (this.#slots.length < this.opts.workers) {
      const added = this.#spawn();
      this.#slots.push(added);
      return added;
    }
    return best ?? first;
  }

  /** Ends the Workers beyond the first that have had no call for `idleMs` (the first one always stays). */
  #reapIdle(idleMs: number): void {
    const now = performance.now();
    for (let i = this.#slots.length - 1; i >= 1; i--) {
      const s = this.#slots[i] as Slot;
      if (s.pending.size > 0 || now - s.usedAt < idleMs) continue;
      this.#slots.splice(i, 1);
      s.worker.terminate();
    }
  }

  #spawn(): Slot {
    return new Slot(this.opts.workerUrl, this.opts.uri, (slot, m) => this.#onResult(slot, m));
  }

  #onResult(slot: Slot, m: FromWorker): void {
    const p = slot.take(m.id);
    if (!p) return; // answered after its deadline; the caller already has a timeout error
    clearTimeout(p.timer);
    if (m.ok) {
      for (const fn of this.#callListeners) fn(p.op, p.args, m.value, p.sentAt);
      p.resolve(m.value);
      return;
    }
    if (m.disconnected) this.#markDown(m.error.message);
    p.reject(fromWire(m.error, p.op));
  }

  /** A call past its deadline fails, and its Worker (stuck in C) is abandoned and replaced. */
  #timedOut(slot: Slot, id: number, deadline: number): void {
    const p = slot.pending.get(id);
    if (!p) return;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots[i] = this.#spawn();
    slot.worker.terminate();
    for (const [otherId, other] of slot.pending) {
      clearTimeout(other.timer);
      const err =
        otherId === id
          ? new HypervisorTimeout(`${p.op} did not finish within ${deadline} ms; its worker was replaced`, {
              details: { op: p.op, timeoutMs: deadline },
            })
          : new HypervisorUnavailable(`${other.op} was queued behind ${p.op}, which hung; retry`);
      other.reject(err);
    }
    slot.clear();
    // A hung open or call usually means a hung daemon: fail fast until a ping answers again.
    this.#markDown(`${p.op} timed out after ${deadline} ms`);
  }

  #onPump(m: FromPump): void {
    if (m.type === "lifecycle") {
      for (const fn of this.#lifecycle) fn(m);
    } else if (m.type === "connected") {
      for (const fn of this.#eventsConnected) fn();
    } else if (m.type === "closed") {
      this.#markDown(`connection closed (${m.reason})`);
    }
  }

  #setState(state: HypervisorState, reason: string): void {
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    for (const fn of this.#stateListeners) fn(state, reason);
  }

  #markDown(reason: string): void {
    if (this.#closed) return;
    const wasDown = this.#state === "down";
    this.#setState("down", reason);
    if (wasDown) return;
    // Every Worker drops its (now dead) connection and reopens on its next call.
    for (const s of this.#slots) s.send({ type: "reset" });
    void this.consoles.reset(`hypervisor unavailable: ${reason}`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer || this.#closed) return;
    this.#backoffMs = Math.min(this.#backoffMs ? this.#backoffMs * 2 : 100, this.opts.reconnectMaxMs);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#probe();
    }, this.#backoffMs);
  }

  /** One ping on every Worker: each opens its connection; any failure keeps berth down and retries. */
  async #probe(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((slot) => this.#dispatch("ping", {}, this.opts.callTimeoutMs, slot)));
    } catch (e) {
      this.#setState("down", e instanceof Error ? e.message : String(e));
      this.#scheduleReconnect();
      return;
    }
    this.#backoffMs = 0;
    this.#pump?.connect(this.opts.uri);
    this.#setState("up", "connected");
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#reapTimer) clearInterval(this.#reapTimer);
    for (const s of this.#slots) {
      for (const p of s.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new HypervisorUnavailable("berth is shutting down"));
      }
      s.worker.terminate();
    }
    this.#slots = [];
    await this.consoles.close();
    const pump = this.#pump;
    this.#pump = null;
    await pump?.close();
  }
}

/** True for the error libvirt gives when a looked-up domain does not exist. */
export function isNoSuchDomain(e: unknown): boolean {
  return e instanceof AppError && e.details?.libvirtCode === ErrorCode.NO_DOMAIN;
}
