// berth's libvirt directory storage pool: created, built, started and autostarted when missing; never world-readable.
import { chmod, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../errors.ts";
import { ErrorCode } from "../ffi/error.ts";
import { buildDirPoolXml, POOL_DIR_MODE } from "../xml/storage.ts";
import type { Core } from "./context.ts";
import { poolDir } from "./paths.ts";
import { singleFlight } from "./single-flight.ts";

function isLibvirt(e: unknown, code: number): boolean {
  return e instanceof AppError && e.details?.libvirtCode === code;
}

// One ensure at a time per configuration: concurrent first users wait for the same define/build/start.
const once = singleFlight<string>();
/**
 * The pool ensured on a hypervisor connection, for the configuration it was ensured for: a create asks for
 * it every time, and checking it again (a list, an autostart, a stat) cost two calls per create. Forgotten
 * by forgetStoragePool: when the connection goes down (libvirtd may come back without it; buildCore) and
 * when libvirt says it is gone.
 */
const ensured = new WeakMap<Core["hv"], { config: Core["config"]; name: string }>();

/** Makes sure the pool exists and runs; safe to call at every start, after reconnects, and concurrently. */
export function ensureStoragePool(core: Core): Promise<string> {
  const known = ensured.get(core.hv);
  if (known?.config === core.config) return Promise.resolve(known.name);
  return once(core.config, async () => {
    const name = await ensure(core);
    ensured.set(core.hv, { config: core.config, name });
    return name;
  });
}

/** The next ensure on this connection checks the pool again (define, build, start as needed). */
export function forgetStoragePool(hv: Core["hv"]): void {
  ensured.delete(hv);
}

/** libvirt's answer for a pool that is gone or stopped. */
export function poolMissing(e: unknown): boolean {
  return isLibvirt(e, ErrorCode.NO_STORAGE_POOL) || isLibvirt(e, ErrorCode.OPERATION_INVALID);
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
  await closePoolDir(poolDir(core.config));
  return name;
}

/** How long a refresh waits for the pool's running volume jobs (berth's builds are qemu-img creates: ms). */
const REFRESH_WAIT_MS = 30_000;

/**
 * libvirt refuses to refresh a pool while a volume is being built in it ("has asynchronous jobs running"):
 * with concurrent creates that is routine, not a failure. Retried with a short backoff until the jobs end
 * (bounded by REFRESH_WAIT_MS); any other failure is thrown at once.
 */
export async function refreshPool(core: Core, pool: string): Promise<void> {
  const deadline = Date.now() + REFRESH_WAIT_MS;
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    try {
      await core.hv.call("pool.refresh", { pool });
      return;
    } catch (e) {
      if (!jobsRunning(e) || Date.now() + wait > deadline) throw e;
      await Bun.sleep(wait);
    }
  }
}

function jobsRunning(e: unknown): boolean {
  return (
    isLibvirt(e, ErrorCode.INTERNAL_ERROR) && (e as AppError).message.includes("asynchronous jobs running")
  );
}

/**
 * Makes the pool directory POOL_DIR_MODE. Pools built by earlier versions were 0755 with 0644 images:
 * the first start after the upgrade also takes group and other bits off the files in them (libvirt
 * hands a disk to QEMU's user when a VM starts, so the owner's bits are all QEMU needs).
 */
export async function closePoolDir(dir: string): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(dir)).mode & 0o777;
  } catch (e) {
    // The test driver keeps its pools in memory: the directory appears with the first stored image.
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (mode === POOL_DIR_MODE) return;
  await chmod(dir, POOL_DIR_MODE);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(dir, entry.name);
    const m = (await stat(file)).mode & 0o7777;
    if ((m & 0o077) !== 0) await chmod(file, m & 0o700);
  }
}

export { isLibvirt };
