// Attaching to a VM's serial console interactively: who may, in which state, and the one-session rule.
import { Conflict } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import { assertVmActor, type Caller, requireAdmin, requireCaller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { ConsoleHandlers, ConsoleSession } from "../hypervisor/console-hub.ts";
import { domainState } from "./domain.ts";
import { findVmRow } from "./records.ts";

/** States with a live QEMU behind the console (a paused guest's console opens; it answers once resumed). */
const LIVE: ReadonlySet<DomainState> = new Set(["running", "blocked", "paused", "pmsuspended", "shutdown"]);

export interface AttachOptions {
  /** Take the console from the session that holds it: admins only. */
  force?: boolean;
}

/**
 * Opens the VM's serial console for typing into it. Typing is acting on the VM, so the rule is
 * assertVmActor's (owner or admin; a pool's ready VM admins only), after 401 for anonymous callers.
 * 404 unknown or hidden VM, 403 not_owner, 409 not running or the console already held.
 */
export async function attachConsole(
  core: Core,
  caller: Caller | null,
  vmName: string,
  opts: AttachOptions,
  handlers: ConsoleHandlers,
): Promise<ConsoleSession> {
  requireCaller(core, caller);
  assertVmActor(core, caller, vmName);
  if (opts.force) requireAdmin(core, caller, "take over a console session");
  findVmRow(core, vmName);
  const state = await domainState(core, vmName);
  if (state === null || !LIVE.has(state)) {
    throw new Conflict(`vm ${vmName} is not running (${state ?? "no domain"}): its console is closed`);
  }
  return await core.hv.consoles.open(vmName, opts.force === true, handlers);
}
