// PVC's VMs over core, read side: the VM object in PVC's shape (from libvirt's XML), lists with limit/node/state, one VM, its XML.
import { AppError } from "../../errors.ts";
import { readPvcDomain } from "../../xml/pvc-domain.ts";
import { sameUuid } from "../../xml/user-domain.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { listVmViews, type Vm } from "../vms/index.ts";
import { getVmXml } from "../vms/xml-define.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import { pvcNodeName } from "./pvc-node.ts";

/** PVC's only 404 (code vm_not_found, which the PVC front answers verbatim). */
const vmNotFound = () => new AppError(404, "vm_not_found", "VM not found.");

/** PVC's VM states; the `state` filter takes only these. */
export const PVC_VM_STATES = [
  "start",
  "restart",
  "shutdown",
  "stop",
  "failed",
  "migrate",
  "unmigrate",
] as const;

/** PVC's word for a VM's live state (berth's record while the hypervisor is unreachable). */
export function pvcState(vm: Vm): string {
  // PVC had no word for a VM being made: it is not running yet.
  if (vm.status === "creating") return "stop";
  switch (vm.state) {
    case "running":
    case "blocked":
    case "paused":
    case "pmsuspended":
      return "start";
    case "shutdown":
      return "shutdown";
    case "shutoff":
    case "nostate":
      return "stop";
    case "crashed":
    case "absent":
      return "failed";
    default:
      return vm.status === "running" || vm.status === "paused"
        ? "start"
        : vm.status === "error" || vm.status === "gone"
          ? "failed"
          : "stop";
  }
}

function failedReason(vm: Vm): string {
  if (vm.status === "creating") return "";
  if (vm.state === "absent") return "libvirt has no domain for this VM";
  if (vm.state === "crashed") return "the guest crashed";
  if (vm.status === "error") return "berth recorded an error for this VM";
  return "";
}

/** XML-derived fields when the caller may not read the XML (a public view) or libvirt has none. */
function fromRecords(vm: Vm) {
  return {
    description: vm.description || "N/A",
    memory: vm.memory_mib,
    vcpu: String(vm.vcpus),
    vcpu_topology: "N/A",
    networks: [],
    type: "",
    arch: "",
    machine: "",
    console: "",
    emulator: "",
    features: [],
    disks: [],
    controllers: [],
  };
}

async function xmlFields(core: Core, caller: Caller | null, vm: Vm) {
  // A public view (uuid hidden) shows no more than berth's records.
  if (vm.uuid === null || vm.state === "absent" || vm.status === "creating") return fromRecords(vm);
  try {
    const { name: _n, uuid: _u, ...facts } = readPvcDomain(await getVmXml(core, caller, vm.name, true));
    return facts;
  } catch (e) {
    if (e instanceof AppError && e.httpStatus < 500) return fromRecords(vm);
    throw e;
  }
}

/** One VM as PVC's object: its fields and types as PVC emitted them. */
export async function pvcVm(
  core: Core,
  caller: Caller | null,
  vm: Vm,
  node: string,
): Promise<Record<string, unknown>> {
  const facts = await xmlFields(core, caller, vm);
  return {
    name: vm.name,
    uuid: vm.uuid ?? "",
    state: pvcState(vm),
    node,
    last_node: "",
    migrated: "no",
    failed_reason: failedReason(vm),
    ...facts,
  };
}

/** The VM `<vm>` names among those the caller sees: by name, else by uuid; null when none. */
export async function findPvcVm(core: Core, caller: Caller | null, ref: string): Promise<Vm | null> {
  const vms = await listVmViews(core, caller);
  return vms.find((v) => v.name === ref) ?? vms.find((v) => v.uuid !== null && sameUuid(v.uuid, ref)) ?? null;
}

/** The name to hand core for `<vm>`: the VM it names by name or uuid, or `ref` itself (core then refuses it). */
export async function pvcVmName(core: Core, caller: Caller | null, ref: string): Promise<string> {
  return (await findPvcVm(core, caller, ref))?.name ?? ref;
}

export interface PvcVmQuery {
  limit?: string;
  node?: string;
  state?: string;
}

/** GET /vm: PVC's fuzzy limit on name or uuid (each VM once), node and state filters; 404 when none match. */
export async function pvcVmList(
  core: Core,
  caller: Caller | null,
  q: PvcVmQuery,
): Promise<Record<string, unknown>[]> {
  const node = await pvcNodeName(core);
  if (q.node !== undefined && q.node !== "" && q.node !== node) {
    throw new AppError(400, "invalid_request", `Specified node "${q.node}" is invalid.`);
  }
  if (q.state !== undefined && q.state !== "" && !(PVC_VM_STATES as readonly string[]).includes(q.state)) {
    throw new AppError(400, "invalid_request", `VM state "${q.state}" is not valid.`);
  }
  const matches = pvcLimitMatcher(q.limit);
  const vms = (await listVmViews(core, caller)).filter(
    (v) =>
      (matches(v.name) || (v.uuid !== null && matches(v.uuid))) &&
      (q.state === undefined || q.state === "" || pvcState(v) === q.state),
  );
  if (vms.length === 0) throw vmNotFound();
  return await Promise.all(vms.map((v) => pvcVm(core, caller, v, node)));
}

/** GET /vm/<vm>: the one VM named by name or uuid, exactly (PVC's prefix regex is not kept), or 404. */
export async function pvcVmGet(
  core: Core,
  caller: Caller | null,
  ref: string,
): Promise<Record<string, unknown>[]> {
  const vm = await findPvcVm(core, caller, ref);
  if (vm === null) throw vmNotFound();
  return [await pvcVm(core, caller, vm, await pvcNodeName(core))];
}

/** GET /vm/<vm>/dump: the persistent libvirt XML as text. */
export async function pvcVmDump(core: Core, caller: Caller | null, ref: string): Promise<string> {
  const vm = await findPvcVm(core, caller, ref);
  if (vm === null) throw new AppError(404, "not_found", `Could not find VM "${ref}" in the cluster!`);
  return await getVmXml(core, caller, vm.name, true);
}
