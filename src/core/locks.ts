// One action at a time per target (a VM, an image): a second one gets a 409 naming the running operation.
import { Conflict } from "../errors.ts";

export class Locks {
  #held = new Map<string, { opId: string; kind: string }>();

  /** Throws Conflict naming the running operation when `target` is held; checked before any slow step. */
  ensureFree(target: string): void {
    const held = this.#held.get(target);
    if (held) {
      throw new Conflict(`${target} is busy: operation ${held.opId} (${held.kind}) is running`, {
        details: { operation: held.opId, kind: held.kind },
      });
    }
  }

  /** Takes `target` for operation `opId`, or throws Conflict naming who holds it. */
  acquire(target: string, opId: string, kind: string): void {
    this.ensureFree(target);
    this.#held.set(target, { opId, kind });
  }

  release(target: string, opId: string): void {
    if (this.#held.get(target)?.opId === opId) this.#held.delete(target);
  }

  holder(target: string): string | undefined {
    return this.#held.get(target)?.opId;
  }
}
