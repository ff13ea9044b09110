// The small fault injector: a core whose hypervisor refuses the nth call of one operation, as libvirt would.
import type { Core } from "../../src/core/context.ts";
import { HypervisorError } from "../../src/errors.ts";

/** `core` with a hypervisor that rejects the `nth` (1-based) call of `op` with libvirt's `message`. */
export function failingAt<C extends Core>(core: C, op: string, nth: number, message: string): C {
  let calls = 0;
  const hv = Object.create(core.hv, {
    call: {
      value: (name: string, args: unknown) => {
        if (name === op && ++calls === nth) return Promise.reject(new HypervisorError(message));
        return core.hv.call(name as never, args as never);
      },
    },
  }) as C["hv"];
  return { ...core, hv };
}
