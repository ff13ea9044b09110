// OS installs: the request, following the installer until it powers off, then booting from disk for good.
import { deleteDisk, disksOf, nicsOf, updateVm, vmByName } from "../../db/vms.ts";
import { AppError, BadRequest, Conflict } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import type { LifecycleListener } from "../hypervisor/client.ts";
import type { OpContext } from "../operations.ts";
import { ensureStoragePool, isLibvirt } from "../storage-pool.ts";
import { now } from "../time.ts";
import { domainXmlFor } from "./domain-xml.ts";
import { INSTALL_DISK, installPending, installVolumesOf } from "./install-boot.ts";
import { checkLocation } from "./install-tree.ts";
import { recordState } from "./power.ts";
import { type BootConfig, findVmRow, loadVm, type Vm, vmTarget } from "./records.ts";
import { deleteVolume } from "./volumes.ts";

/** How long a create operation follows its install; past that the lifecycle watcher finishes it. */
export const INSTALL_WAIT_MS = 4 * 3600 * 1000;
const POLL_MS = 1000;
/** virDomainShutoffReason values that tell how a guest stopped (1: it powered itself off). */
const SHUTOFF_REASON: Record<number, string> = { 1: "shutdown", 2: "was destroyed", 3: "crashed" };
/** virDomainEventStoppedDetailType SHUTDOWN: the guest powered itself off. */
const STOPPED_SHUTDOWN = 0;
const CONTROL = /\p{Cc}/u;

type LifecycleMessage = Parameters<LifecycleListener>[0];

/** A network install as a create request asks for it. */
export interface InstallRequest {
  location: string;
  cmdline?: string;
}

/** Checks a network install's location (http/https) and cmdline (one line); the tree is read later. */
export function checkInstall(boot: { location?: string; cmdline?: string }): void {
  if (!boot.location) throw new BadRequest("a network install needs location (the install tree URL)");
  checkLocation(boot.location);
  if (boot.cmdline !== undefined && CONTROL.test(boot.cmdline)) {
    throw new BadRequest("install cmdline may not contain control characters");
  }
}

/**
 * The staging hypervisor agent's `install`, `location` and `cmdline` as a create request's `install`:
 * with install true, location is required; without it, a host boots from disk (location and cmdline
 * are ignored, as the agent ignored them).
 */
export function installFromAgent(f: {
  install?: boolean;
  location?: string;
  cmdline?: string;
}): InstallRequest | undefined {
  if (f.install !== true) return undefined;
  if (!f.location) throw new BadRequest("install: true needs location (the install tree URL)");
  return { location: f.location, ...(f.cmdline !== undefined ? { cmdline: f.cmdline } : {}) };
}

/**
 * Makes the VM boot from its disk for good: the install cdrom and the installer kernel go, the boot
 * setting becomes disk, and the definition is rewritten from the records. Nothing happens when no
 * install is pending. The caller holds the VM's lock and the domain is off.
 */
export async function switchToDisk(core: Core, name: string): Promise<void> {
  const row = findVmRow(core, name);
  const boot = JSON.parse(row.boot) as BootConfig;
  if (!installPending(boot)) return;
  const disks = disksOf(core.db, row.id);
  const iso =
    boot.mode === "iso"
      ? disks.find((d) => d.name === INSTALL_DISK && d.device === "cdrom" && d.image === boot.iso_image)
      : undefined;
  const next = { ...row, boot: JSON.stringify({ mode: "disk" } satisfies BootConfig), updated_at: now() };
  const keep = disks.filter((d) => d !== iso);
  await core.hv.call("domain.define", { xml: domainXmlFor(core, next, keep, nicsOf(core.db, row.id)) });
  const leftover = installVolumesOf(row);
  core.db.transaction(() => {
    updateVm(core.db, row.id, { boot: next.boot, updated_at: next.updated_at });
    if (iso) deleteDisk(core.db, row.id, iso.unit);
  })();
  if (leftover.length > 0) {
    const pool = await ensureStoragePool(core);
    for (const v of leftover) await deleteVolume(core, pool, v);
  }
  core.events.publish("vm.installed", vmTarget(name), { id: row.id, from: boot.mode });
}

/** How the installer ended: powered off (done), or stopped some other way (failed), or still running. */
async function waitForPowerOff(core: Core, name: string, signal: AbortSignal, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    let info: { state: string; reason: number };
    try {
      info = await core.hv.call("domain.info", { name });
    } catch (e) {
      if (isLibvirt(e, ErrorCode.NO_DOMAIN))
        throw new Conflict(`vm ${name}'s domain vanished during its install`);
      throw e;
    }
    if (info.state === "crashed") return "crashed";
    if (info.state === "shutoff")
      return SHUTOFF_REASON[info.reason] ?? `stopped (shutoff reason ${info.reason})`;
    if (Date.now() >= deadline) return "timeout";
    await Bun.sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

/** Switches to disk and starts the VM again, recording each state. */
async function bootInstalled(
  core: Core,
  id: string,
  name: string,
  ctx: Pick<OpContext, "progress">,
): Promise<void> {
  await switchToDisk(core, name);
  ctx.progress(0.95, "installed: booting from disk");
  await core.hv.call("domain.create", { name });
  recordState(core, id, name, "running");
}

/**
 * Follows a started install from the create operation: "installing" until the guest powers off, then
 * boots it from disk. An installer that crashes or is stopped fails the operation and keeps the VM
 * (its console log says why); one still running after `timeoutMs` is left to `watchInstalls`.
 */
export async function followInstall(
  core: Core,
  vm: { id: string; name: string },
  ctx: OpContext,
  timeoutMs = INSTALL_WAIT_MS,
): Promise<Vm> {
  ctx.progress(0.9, "installing");
  const end = await waitForPowerOff(core, vm.name, ctx.signal, timeoutMs);
  if (end === "timeout") {
    const s = Math.round(timeoutMs / 1000);
    ctx.progress(0.9, `installing: still running after ${s} s; berth boots it from disk when it powers off`);
    return loadVm(core, vm.name);
  }
  recordState(core, vm.id, vm.name, "shutoff");
  if (end !== "shutdown") {
    throw new AppError(502, "install_failed", `the installer of vm ${vm.name} did not power off: it ${end}`);
  }
  await bootInstalled(core, vm.id, vm.name, ctx);
  return loadVm(core, vm.name);
}

/**
 * Finishes an install no operation follows (a VM created without start, or past the create's wait):
 * when such a guest powers itself off, berth boots it from disk in a `vm.install.finish` operation.
 */
export function onInstallerStopped(core: Core, e: LifecycleMessage): void {
  if (e.event !== "stopped" || e.detail !== STOPPED_SHUTDOWN) return;
  const row = vmByName(core.db, e.name);
  if (!row || row.status === "creating" || row.status === "gone") return;
  if (row.uuid && row.uuid !== e.uuid) return;
  if (!installPending(JSON.parse(row.boot) as BootConfig)) return;
  if (core.locks.holder(vmTarget(row.name))) return; // the create operation follows it itself
  try {
    core.ops.start(
      "vm.install.finish",
      vmTarget(row.name),
      async (ctx) => {
        const info = await core.hv.call("domain.info", { name: row.name });
        if (info.state !== "shutoff")
          throw new Conflict(`vm ${row.name} runs again; its install stays pending`);
        recordState(core, row.id, row.name, "shutoff");
        await bootInstalled(core, row.id, row.name, ctx);
        return loadVm(core, row.name);
      },
      { lock: true },
    );
  } catch (err) {
    log.warn("could not finish an install", {
      vm: row.name,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** Subscribes `onInstallerStopped` to libvirt's lifecycle events; returns the unsubscribe. */
export function watchInstalls(core: Core): () => void {
  return core.hv.onLifecycle((e) => onInstallerStopped(core, e));
}
