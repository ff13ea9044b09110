// Has pool members created in a Worker of their own, so a refill's creates cost the HTTP thread little.
import { failIfRunning } from "../../db/operations.ts";
import { AppError } from "../../errors.ts";
import { log, logLevel, writeLogLine } from "../../log.ts";
import type { Core } from "../context.ts";
import type { AdoptedOperation } from "../operations.ts";
import { now } from "../time.ts";
import { vmTarget } from "../vms/records.ts";
import type { CreateMember } from "./member-create.ts";
import type { FromMembers, FromMembersBatch, ToMembers, WireAppError } from "./member-protocol.ts";

const ENDS = new Set(["operation.succeeded", "operation.failed", "operation.cancelled"]);
const OPERATION = "operation/";
/** A Worker with no create under way this long is stopped (its heap and connections freed); the next create starts one. */
const IDLE_MS = 60_000;
/** How long a stop waits for the Worker to close its connection before it is terminated. */
const STOP_WAIT_MS = 10_000;

const fromWire = (e: WireAppError) => new AppError(e.status, e.code, e.message);

interface Answer {
  resolve(): void;
  reject(e: Error): void;
}

/** A create sent to the Worker, from its send until its operation ends. */
interface Flight {
  target: string;
  adopted: AdoptedOperation;
}

export class MemberWorker {
  #worker: Worker | null = null;
  #starting: Promise<Worker> | null = null;
  #answers = new Map<string, Answer>();
  #flights = new Map<string, Flight>();
  #idle: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;

  constructor(
    private readonly core: Core,
    private readonly urls: { members: string; hypervisor: string },
    private readonly opts: { idleMs?: number } = {},
  ) {}

  /** A Worker runs now (one starts with the first create, and stops once idle). */
  get running(): boolean {
    return this.#worker !== null;
  }

  /**
   * Creates a member in the Worker. This thread holds the VM's lock under the create's operation id until
   * the Worker reports the operation's end, answers reads and waits of that operation, and passes a
   * cancel of it on: to the API it is an operation like any other.
   */
  readonly create: CreateMember = async (m) => {
    if (this.#stopping) throw new AppError(503, "stopping", "berth is stopping");
    const id = m.operation;
    const target = vmTarget(m.name);
    this.core.locks.acquire(target, id, "vm.create");
    const adopted = this.core.ops.adopt(id, () =>
      this.#worker?.postMessage({ kind: "cancel", operation: id }),
    );
    this.#flights.set(id, { target, adopted });
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    try {
      const worker = await this.#start();
      await new Promise<void>((resolve, reject) => {
        this.#answers.set(id, { resolve, reject });
        worker.postMessage({ kind: "create", member: m, logLevel: logLevel() } satisfies ToMembers);
      });
    } catch (e) {
      this.#end(id); // refused: nothing was recorded, and no end will come
      throw e;
    }
  };

  /** Stops the Worker: creates under way are cut short (reconcile finishes what their undos could not). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#idle) clearTimeout(this.#idle);
    await this.#shutdown();
    for (const id of [...this.#flights.keys()]) this.#end(id);
  }

  #start(): Promise<Worker> {
    if (this.#worker) return Promise.resolve(this.#worker);
    this.#starting ??= new Promise<Worker>((resolve, reject) => {
      const w = new Worker(this.urls.members);
      let starting = true;
      const failedToStart = (e: Error) => {
        starting = false;
        this.#starting = null;
        w.terminate();
        reject(e);
      };
      w.onmessage = (ev: MessageEvent<FromMembersBatch>) => {
        for (const m of ev.data) {
          if (m.kind === "ready") {
            starting = false;
            this.#worker = w;
            this.#starting = null;
            resolve(w);
          } else if (m.kind === "start-failed") failedToStart(fromWire(m.error));
          else this.#onMessage(m);
        }
      };
      w.addEventListener("error", (ev) => {
        if (starting)
          failedToStart(
            new AppError(500, "internal", `the pool members' Worker did not start: ${ev.message}`),
          );
        else this.#died(w, ev.message); // a Worker already stopped is no longer this.#worker: ignored there
      });
      w.postMessage({
        kind: "start",
        config: this.core.config,
        hypervisor: this.urls.hypervisor,
      } satisfies ToMembers);
    });
    return this.#starting;
  }

  #onMessage(m: FromMembers): void {
    switch (m.kind) {
      case "event": {
        this.core.events.publish(m.type, m.target, m.data);
        const flight = m.target.startsWith(OPERATION)
          ? this.#flights.get(m.target.slice(OPERATION.length))
          : undefined;
        if (!flight) return;
        if (m.type === "operation.progress")
          flight.adopted.progress(Number(m.data.progress), String(m.data.message ?? ""));
        else if (ENDS.has(m.type)) this.#end(m.target.slice(OPERATION.length));
        return;
      }
      case "created":
        this.#answers.get(m.operation)?.resolve();
        this.#answers.delete(m.operation);
        return;
      case "refused":
        this.#answers.get(m.operation)?.reject(fromWire(m.error));
        this.#answers.delete(m.operation);
        return;
      case "log":
        writeLogLine(m.line);
        return;
    }
  }

  /** The create's operation ended (or never began): its lock goes, and waits of it end. */
  #end(id: string): void {
    const flight = this.#flights.get(id);
    if (!flight) return;
    this.#flights.delete(id);
    this.core.locks.release(flight.target, id);
    flight.adopted.ended();
    if (this.#flights.size === 0 && !this.#stopping) {
      this.#idle = setTimeout(() => void this.#shutdown(), this.opts.idleMs ?? IDLE_MS);
      this.#idle.unref();
    }
  }

  /**
   * The Worker failed outright: creates it had not answered are refused, and operations it ran are
   * recorded failed here (it can no longer record their ends). Their VMs, if recorded, stay `creating`
   * for reconcile to clean up. The next create starts a new Worker.
   */
  #died(w: Worker, reason: string): void {
    if (w !== this.#worker) return;
    this.#worker = null;
    w.terminate();
    log.error("the pool members' Worker failed", { reason });
    const error = { code: "internal", message: `the pool members' Worker failed: ${reason}`, status: 500 };
    for (const answer of this.#answers.values()) answer.reject(new AppError(500, error.code, error.message));
    this.#answers.clear();
    for (const [id, flight] of [...this.#flights]) {
      if (failIfRunning(this.core.db, id, JSON.stringify(error), now()))
        this.core.events.publish("operation.failed", `${OPERATION}${id}`, {
          kind: "vm.create",
          target: flight.target,
          error,
        });
      this.#end(id);
    }
  }

  /** Stops the Worker, if one runs; a create that comes meanwhile starts another. */
  async #shutdown(): Promise<void> {
    const w = this.#worker ?? (this.#starting ? await this.#starting.catch(() => null) : null);
    if (!w) return;
    if (w === this.#worker) this.#worker = null;
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_WAIT_MS);
      w.addEventListener("message", (ev: MessageEvent<FromMembersBatch>) => {
        if (!ev.data.some((m) => m.kind === "stopped")) return;
        clearTimeout(timer);
        resolve();
      });
    });
    w.postMessage({ kind: "stop" } satisfies ToMembers);
    await stopped;
    w.terminate();
  }
}
