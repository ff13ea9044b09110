// libvirt's default event loop: registered once per process, pumped by one thread.
import { JSCallback } from "bun:ffi";
import { check } from "./error.ts";
import { sym } from "./lib.ts";

let registered = false;

/** virEventRegisterDefaultImpl: must run before the connection that wants events is opened. */
export function registerEventLoop(): void {
  if (registered) return;
  check(sym.virEventRegisterDefaultImpl());
  registered = true;
}

/** virEventRunDefaultImpl: blocks until one event, timer or I/O has been dispatched. */
export function runEventLoopOnce(): void {
  check(sym.virEventRunDefaultImpl());
}

/**
 * virEventAddTimeout: a repeating timer on the event loop, so runEventLoopOnce returns at least
 * every `ms` and the pumping thread can read its messages. The callback runs on the pump thread.
 */
export function addLoopTimer(ms: number, fn: () => void): Disposable {
  const cb = new JSCallback(() => fn(), { args: ["i32", "ptr"], returns: "void" });
  const id = check(sym.virEventAddTimeout(ms, cb.ptr, null, null));
  return {
    [Symbol.dispose]: () => {
      sym.virEventRemoveTimeout(id);
      cb.close();
    },
  };
}
