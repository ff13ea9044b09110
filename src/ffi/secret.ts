// Secret: one libvirt secret handle (virSecret*), written only: berth never reads a secret's value back.
import { type Pointer, ptr } from "bun:ffi";
import { check } from "./error.ts";
import { Handle, RAW } from "./handle.ts";
import { sym } from "./lib.ts";

export class Secret extends Handle {
  constructor(p: Pointer) {
    super(p, (q) => sym.virSecretFree(q));
  }

  /** virSecretSetValue: libvirt copies `value` during the call; the caller's buffer is wiped right after. */
  setValue(value: Uint8Array): void {
    try {
      check(sym.virSecretSetValue(this[RAW](), ptr(value), value.byteLength, 0));
    } finally {
      value.fill(0);
    }
  }
}
