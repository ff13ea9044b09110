// Base of every libvirt object handle: owns one pointer privately and frees it exactly once.
import type { Pointer } from "bun:ffi";

/** Reads a handle's pointer; exported to src/ffi only (index.ts does not re-export it). */
export const RAW = Symbol("raw pointer");

type Free = (p: Pointer) => unknown;

// Safety net for handles that were never disposed: the pointer is freed when the handle is collected.
const collected = new FinalizationRegistry<{ p: Pointer; free: Free }>(({ p, free }) => {
  free(p);
});

export abstract class Handle {
  #ptr: Pointer | null;
  readonly #free: Free;

  protected constructor(p: Pointer, free: Free) {
    this.#ptr = p;
    this.#free = free;
    collected.register(this, { p, free }, this);
  }

  /** The owned pointer; throws once the handle has been freed. */
  [RAW](): Pointer {
    if (!this.#ptr) throw new Error(`${this.constructor.name} used after it was freed`);
    return this.#ptr;
  }

  get freed(): boolean {
    return this.#ptr === null;
  }

  /** Releases libvirt's reference (the matching vir*Free); idempotent. */
  [Symbol.dispose](): void {
    if (!this.#ptr) return;
    const p = this.#ptr;
    this.#ptr = null;
    collected.unregister(this);
    this.#free(p);
  }

  free(): void {
    this[Symbol.dispose]();
  }
}
