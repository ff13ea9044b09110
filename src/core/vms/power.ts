// Power actions on a VM: each checks the VM is in a state it applies to (else 409), then runs as an operation.

import { updateVm, type VmStatus } from "../../db/vms.ts";
import { AppError, Conflict } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import { assertVmActor, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { assertHeldHere } from "../fleet/stale.ts";
import type { Operation } from "../operations.ts";
import { now } from "../time.ts";
import { domainState } from "./domain.ts";
import { findVmRow, loadVm, vmTarget } from "./records.ts";
import { assertVolumesClosed } from "./volume-check.ts";

export const POWER_ACTIONS = ["start", "stop", "shutdown", "restart", "reset", "suspend", "resume"] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

const RUNNING: DomainState[] = ["running", "blocked"];
const ON: DomainState[] = ["running", "blocked", "paused", "pmsuspended", "shutdown", "crashed"];

/** Which libvirt states each action applies to; anything else is a 409 that says why. */
const APPLIES: Record<PowerAction, DomainState[]> = {
  start: ["shutoff", "crashed", "nostate"],
  stop: ON,
  shutdown: RUNNING,
  restart: RUNNING,
  reset: RUNNING,
  suspend: RUNNING,
  resume: ["paused", "pmsuspended"],
};

export interface ShutdownOptions {
  timeout_s?: number;
  /** Hard stop when the guest has not powered off within the timeout. */
  force?: boolean;
}

export function statusOf(state: DomainState): VmStatus {
  if (state === "shutoff" || state === "crashed") return "stopped";
  if (state === "paused" || state === "pmsuspended") return "paused";
  return "running";
}

/** Records the new state with its timestamp and announces it. */
export function recordState(core: Core, vmId: string, name: string, state: DomainState): void {
  const status = statusOf(state);
  const at = now();
  updateVm(core.db, vmId, {
    status,
    updated_at: at,
    ...(status === "running" ? { started_at: at } : {}),
    ...(status === "stopped" ? { stopped_at: at } : {}),
  });
  core.events.publish(`vm.${status}`, vmTarget(name), { state });
}

async function waitForShutoff(
  core: Core,
  name: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    if ((await domainState(core, name)) === "shutoff") return true;
    await Bun.sleep(250);
  }
  return false;
}

async function act(
  core: Core,
  name: string,
  action: PowerAction,
  opts: ShutdownOptions,
  signal: AbortSignal,
) {
  switch (action) {
    case "start":
      return core.hv.call("domain.create", { name });
    case "stop":
      return core.hv.call("domain.destroy", { name });
    case "restart":
      return core.hv.call("domain.reboot", { name });
    case "reset":
      return core.hv.call("domain.reset", { name });
    case "suspend":
      return core.hv.call("domain.suspend", { name });
    case "resume":
      return core.hv.call("domain.resume", { name });
    case "shutdown": {
      const timeout = opts.timeout_s ?? core.config.vm.shutdown_timeout_s;
      await core.hv.call("domain.shutdown", { name });
      if (await waitForShutoff(core, name, timeout * 1000, signal)) return;
      if (!opts.force) {
        throw new AppError(
          409,
          "shutdown_timeout",
          `vm ${name} did not shut down within ${timeout} s; stop it, or shut down with force`,
        );
      }
      return core.hv.call("domain.destroy", { name });
    }
  }
}

export async function powerVm(
  core: Core,
  caller: Caller | null,
  name: string,
  action: PowerAction,
  opts: ShutdownOptions = {},
): Promise<Operation> {
  assertVmActor(core, caller, name);
  const row = findVmRow(core, name);
  core.locks.ensureFree(vmTarget(name));
  if (row.status === "creating") throw new Conflict(`vm ${name} is still being created`);
  const check = async (): Promise<DomainState> => {
    const state = await domainState(core, name);
    if (state === null) throw new Conflict(`vm ${name} has no domain in libvirt (status ${row.status})`);
    if (!APPLIES[action].includes(state)) {
      throw new Conflict(`cannot ${action} vm ${name}: it is ${statusOf(state)}`, { details: { state } });
    }
    return state;
  };
  await check();
  // Another fleet host may have recovered it from RBD while this host was taken for dead.
  if (action === "start") await assertHeldHere(core, name);
  return core.ops.start(
    `vm.${action}`,
    vmTarget(name),
    async (ctx) => {
      // Again under the lock: the VM may have changed between the check above and taking it.
      await check().catch((e) => {
        const state = e instanceof Conflict ? (e.details?.state as DomainState | undefined) : undefined;
        // The lock kept lifecycle tracking away meanwhile: record what libvirt says now.
        if (state && statusOf(state) !== findVmRow(core, name).status) recordState(core, row.id, name, state);
        throw e;
      });
      if (action === "start") assertVolumesClosed(core, row);
      await act(core, name, action, opts, ctx.signal);
      const after = await domainState(core, name);
      if (after) recordState(core, row.id, name, after);
      return loadVm(core, name);
    },
    { lock: true },
  );
}
