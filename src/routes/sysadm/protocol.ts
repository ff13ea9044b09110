// sysadm's request evaluation shared by its WebSocket and REST framings: the subsystems, iohyve's args check, in-band action errors.
import type { Caller } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { IOHYVE_KEYS, runIohyve } from "../../core/fronts/sysadm-iohyve.ts";
import { AppError } from "../../errors.ts";

/** A refusal sysadm answered outside the action: its error reply (WebSocket) or its status (REST). */
export class SysadmRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found" };

/** sysadm's error reply args: the code as a string, as its server sent it. */
export function errorArgs(
  code: number,
  message = REASONS[code] ?? "Error",
): { code: string; message: string } {
  return { code: String(code), message };
}

/** rpc/query: the GUI shows its iohyve page only when all three are listed. */
export const SUBSYSTEMS = { "sysadm/iohyve": "read/write", "sysadm/network": "read", "sysadm/zfs": "read" };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The iohyve class: 400 for args that are no object, no known action or a key it does not take; action failures in band. */
async function iohyve(core: Core, caller: Caller | null, args: unknown): Promise<unknown> {
  if (!isObject(args) || typeof args.action !== "string") throw new SysadmRefusal(400, "args need an action");
  const action = args.action;
  const keys = IOHYVE_KEYS[action];
  if (!keys) throw new SysadmRefusal(400, `unknown action ${action}`);
  const extra = Object.keys(args).find((k) => k !== "action" && !keys.includes(k));
  if (extra !== undefined) throw new SysadmRefusal(400, `action ${action} takes no key ${extra}`);
  try {
    return { [action]: await runIohyve(core, caller, action, args) };
  } catch (e) {
    // sysadm answered a failed action in band with 200 (iohyve's message): only berth's own bugs stay errors.
    if (e instanceof AppError) return { [action]: { error: e.message } };
    throw e;
  }
}

/** What the GUI's setup page reads, minimally: berth's storage pool as the one "zfs" pool, no NICs to pick. */
function subsystem(core: Core, name: string, args: unknown): unknown {
  const action = isObject(args) ? args.action : undefined;
  if (name === "zfs" && action === "list_pools") return { list_pools: { [core.config.storage.pool]: {} } };
  if (name === "network" && action === "list-devices") return { "list-devices": {} };
  throw new SysadmRefusal(400, `unknown action ${String(action)}`);
}

/** Evaluates one authenticated sysadm-namespace request. */
export async function evaluate(
  core: Core,
  caller: Caller | null,
  name: string,
  args: unknown,
): Promise<unknown> {
  if (name === "iohyve") return await iohyve(core, caller, args);
  if (name === "zfs" || name === "network") return subsystem(core, name, args);
  throw new SysadmRefusal(404, `no subsystem sysadm/${name}`);
}
