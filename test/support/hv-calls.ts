// Records the libvirt calls a hypervisor client makes from here on, by name (the calls still run).
import type { Hypervisor } from "../../src/core/hypervisor/client.ts";

/** Wraps `hv.call`: every call's op name is pushed to the returned array, in order. */
export function recordCalls(hv: Hypervisor): string[] {
  const calls: string[] = [];
  const real = hv.call.bind(hv);
  hv.call = ((op: string, args: unknown, o?: unknown) => {
    calls.push(op);
    return (real as (a: string, b: unknown, c?: unknown) => Promise<unknown>)(op, args, o);
  }) as typeof hv.call;
  return calls;
}
