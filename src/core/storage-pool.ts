// berth's libvirt directory storage pool: created, built, started and autostarted when missing.

import { AppError } from "../errors.ts";
import { ErrorCode } from "../ffi/error.ts";
import { buildDirPoolXml } from "../xml/storage.ts";
import type { Core } from "./context.ts";
import { poolDir } from "./paths.ts";

function isLibvirt(e: unknown, code: number): boolean {
  return e instanceof AppError && e.details?.libvirtCode === code;
}

// One ensure at a time per configuration: concurrent first users wait for the same define/build/start.
const inFlight = new WeakMap<object, Promise<string>>();

/** Makes sure the pool exists and runs; safe to call at every start, after reconnects, and concurrently. */
export function ensureStoragePool(core: Core): Promise<string> {
  const running = inFlight.get(core.config);
  if (running) return running;
  const p = ensure(core).finally(() => inFlight.delete(core.config));
  inFlight.set(core.config, p);
  return p;
}

async function ensure(core: Core): Promise<string> {
  const name = core.config.storage.pool;
  const pools = await core.hv.call("pool.list", {});
  const found = pools.find((p) => p.name === name);
  if (!found) {
    await core.hv.call("pool.define", { xml: buildDirPoolXml({ name, path: poolDir(core.config) }) });
    await core.hv.call("pool.build", { pool: name });
  }
  if (!found?.active) {
    try {
      await core.hv.call("pool.create", { pool: name });
    } catch (e) {
      if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // already active: someone raced us
    }
  }
  await core.hv.call("pool.setAutostart", { pool: name, on: true });
  return name;
}

export { isLibvirt };
