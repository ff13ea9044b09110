// PVC's VM actions over core: define and modify from raw XML (admins, berth's allowlist), undefine/remove, power, and the moves a single node cannot make.
import { disksOf } from "../../db/vms.ts";
import { AppError, Conflict } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Caller } from "../auth/index.ts";
import { assertVmActor } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import { deleteVmOp, powerVm, type Vm } from "../vms/index.ts";
import { findVmRow } from "../vms/records.ts";
import { defineVmFromXml } from "../vms/xml-define.ts";
import { replaceVmXml } from "../vms/xml-replace.ts";
import { pvcFleetMove } from "./pvc-fleet-moves.ts";
import { pvcNodeName } from "./pvc-node.ts";
import { findPvcVm } from "./pvc-vms.ts";
import { forgetRemovedVolumes } from "./pvc-volumes.ts";

/** PVC's answer to a `<vm>` that names no VM the caller sees (a 510 in its dialect). */
const couldNotFind = (ref: string) =>
  new AppError(404, "not_found", `Could not find VM "${ref}" in the cluster!`);

/** The name of the VM `<vm>` names (by name or uuid), or PVC's "Could not find". */
async function vmName(core: Core, caller: Caller | null, ref: string): Promise<string> {
  const vm = await findPvcVm(core, caller, ref);
  if (vm === null) throw couldNotFind(ref);
  return vm.name;
}

/** `node` as define/move take it: only this host is a node. */
async function checkNode(core: Core, node: string | undefined): Promise<void> {
  if (node === undefined || node === "") return;
  if (node !== (await pvcNodeName(core))) {
    throw new AppError(400, "invalid_request", `Specified node "${node}" is invalid.`);
  }
}

export interface PvcDefineRequest {
  xml: string;
  node?: string;
  /** PVC's node selector (mem, vcpus, load, vms): with one node there is nothing to choose. */
  selector?: string;
}

/** POST /vm/<vm>/define: berth's raw-XML define (admins only, the allowlist), waited for; name and uuid from the XML. */
export async function pvcDefine(core: Core, caller: Caller | null, req: PvcDefineRequest): Promise<string> {
  await checkNode(core, req.node);
  const op = await defineVmFromXml(core, caller, { xml: req.xml });
  const vm = (await operationFinished(core.ops, op)).result as Vm;
  return `Added new VM with Name '${vm.name}' and UUID '${vm.uuid}' to database.`;
}

/** POST /vm/<vm>/modify: berth's raw-XML replace (admins only, the allowlist); flag_restart stops and starts a running VM on it. */
export async function pvcModify(
  core: Core,
  caller: Caller | null,
  ref: string,
  xml: string,
  restart: boolean,
): Promise<string> {
  const name = await vmName(core, caller, ref);
  await operationFinished(core.ops, await replaceVmXml(core, caller, name, { xml, restart }));
  // PVC's modify answered an empty message on success.
  return "";
}

/** POST /vm/<vm>/undefine (keep its volumes) or /remove (with them): stopped hard first, as PVC did. */
export async function pvcDelete(
  core: Core,
  caller: Caller | null,
  ref: string,
  keepVolumes: boolean,
): Promise<string> {
  const name = await vmName(core, caller, ref);
  const disks = disksOf(core.db, findVmRow(core, name).id).map((d) => d.volume);
  await operationFinished(
    core.ops,
    deleteVmOp(core, caller, name, keepVolumes ? { keepVolumes } : { attachedDisks: true }),
  );
  if (!keepVolumes) await forgetRemovedVolumes(core, disks);
  return keepVolumes
    ? `Undefined VM '${ref}' from the cluster.`
    : `Removed VM '${ref}' and disks from the cluster.`;
}

export type PvcPower = "start" | "restart" | "shutdown" | "stop";

const DONE: Record<PvcPower, (ref: string) => string> = {
  start: (ref) => `Starting VM '${ref}'.`,
  restart: (ref) => `Restarting VM '${ref}'.`,
  shutdown: (ref) => `Shutting down VM '${ref}'.`,
  stop: (ref) => `Forcibly stopping VM '${ref}'.`,
};

/**
 * Power actions. start and stop of a VM already in that state succeed (PVC only set the wanted state);
 * restart and shutdown of a VM that is not running fail as PVC's did. start and stop are waited for;
 * shutdown and restart answer at once: ACPI, then a hard stop after [pvc] shutdown_timeout_s, and for
 * restart a start once it is off (the manual's "shutdown then start").
 */
export async function pvcPower(
  core: Core,
  caller: Caller | null,
  ref: string,
  action: PvcPower,
): Promise<string> {
  const name = await vmName(core, caller, ref);
  const timeout_s = core.config.pvc.shutdown_timeout_s;
  let op: Awaited<ReturnType<typeof powerVm>>;
  try {
    op =
      action === "shutdown" || action === "restart"
        ? await powerVm(core, caller, name, "shutdown", { timeout_s, force: true })
        : await powerVm(core, caller, name, action);
  } catch (e) {
    if (!(e instanceof Conflict) || e.details?.state === undefined) throw e;
    if (action === "start" || action === "stop") return DONE[action](ref);
    throw new AppError(409, "conflict", `VM "${ref}" is not in "start" state!`, { cause: e });
  }
  if (action === "restart") void startWhenOff(core, caller, name, op.id, timeout_s);
  else if (action !== "shutdown") await operationFinished(core.ops, op);
  return DONE[action](ref);
}

/** restart's second half, in the background: start the VM once its shutdown operation has stopped it. */
async function startWhenOff(
  core: Core,
  caller: Caller | null,
  name: string,
  shutdown: string,
  timeoutS: number,
): Promise<void> {
  try {
    const done = await core.ops.wait(shutdown, timeoutS + 60);
    if (done.status !== "succeeded") throw new Error(`its shutdown ended ${done.status}`);
    await operationFinished(core.ops, await powerVm(core, caller, name, "start"));
  } catch (e) {
    log.warn("pvc restart: vm not started again", { vm: name, error: (e as Error).message });
  }
}

export type PvcMove = "move" | "migrate" | "unmigrate";

/** move/migrate/unmigrate: on a fleet, berth's migration (pvc-fleet-moves.ts); a single node has nowhere to move a VM to. */
export async function pvcMove(
  core: Core,
  caller: Caller | null,
  ref: string,
  action: PvcMove,
  node: string | undefined,
  force = false,
  selector?: string,
): Promise<string> {
  const name = await vmName(core, caller, ref);
  assertVmActor(core, caller, name);
  if (core.fleet)
    return await pvcFleetMove(core, core.fleet, caller, name, ref, action, node, force, selector);
  const here = await pvcNodeName(core);
  if (action === "unmigrate") {
    throw new AppError(
      409,
      "conflict",
      `VM "${ref}" has not been previously migrated (this cluster has one node).`,
    );
  }
  if (node !== undefined && node !== "" && node !== here) {
    throw new AppError(400, "invalid_request", `Specified node "${node}" is invalid.`);
  }
  if (node === here) throw new AppError(409, "conflict", `VM "${ref}" is already running on node "${here}".`);
  throw new AppError(
    409,
    "no_other_node",
    `Cannot ${action} VM "${ref}": this cluster has one node and no other node to move it to.`,
  );
}
