// Kahu's instances over core: list, show, create (synchronously, stopped), start, stop, delete and the address of one interface.
import { vmNumbers } from "../../db/vm-numbers.ts";
import { BadRequest, Conflict, NotFound } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import { findProfile } from "../profiles.ts";
import { findSize } from "../sizes.ts";
import { vmAddresses } from "../vms/addresses.ts";
import { createVm, deleteVmOp, getVm, listVmViews, powerVm, type Vm } from "../vms/index.ts";
import {
  hypervisorUri,
  instanceId,
  instanceUri,
  type KahuScope,
  kahuHypervisor,
  kahuNetworks,
  kahuVolumes,
  namesThisHypervisor,
  profileUri,
  sizeUri,
  vmOfInstance,
} from "./kahu.ts";

/** An instance in Kahu's words: its name, state, profile and size URIs, and its network and storage maps. */
export function kahuInstance(scope: KahuScope, vm: Vm): Record<string, unknown> {
  return {
    name: vm.name,
    state: vm.status,
    profile: vm.profile === null ? null : profileUri(scope, vm.profile),
    size: vm.size === null ? null : sizeUri(scope, vm.size),
    hypervisor: hypervisorUri(scope),
    network: kahuNetworks(vm.nics.map((n) => n.network)),
    storage: kahuVolumes(vm.disks),
  };
}

/** The instances of a scope, keyed by id. */
export async function listInstances(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
): Promise<Record<string, Record<string, unknown>>> {
  const numbers = vmNumbers(core.db);
  const vms = await listVmViews(core, caller, { project: scope.project });
  return Object.fromEntries(
    vms.flatMap((vm) => {
      const id = numbers.get(vm.id);
      return id === undefined ? [] : [[String(id), kahuInstance(scope, vm)]];
    }),
  );
}

/** The VM an instance id names in this scope: another scope's instance is unknown here. */
export async function instanceVm(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
): Promise<Vm> {
  const vm = await getVm(core, caller, vmOfInstance(core, id));
  if (vm.project !== scope.project) throw new NotFound(`instance ${id} does not exist`);
  return vm;
}

export interface KahuCreateRequest {
  profile: string;
  size?: string;
  hypervisor?: string;
  sshKey?: string;
  name?: string;
}

/** A form value naming a catalogue entry: 400 when there is none (it is the request that is wrong). */
function known<T>(what: string, name: string, find: () => T): T {
  try {
    return find();
  } catch (e) {
    if (e instanceof NotFound) throw new BadRequest(`${what} ${name} does not exist`, { cause: e });
    throw e;
  }
}

/** Creates a stopped instance and waits until it exists, as Kahu answered its POST (201 with the new instance's URI). */
export async function createInstance(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  req: KahuCreateRequest,
): Promise<{ id: number; location: string; body: Record<string, unknown> }> {
  const profile = known("profile", req.profile, () => findProfile(core, req.profile));
  // Kahu required a size; a profile that has one (or its own cpus and memory) may stand in for it.
  const size = req.size ?? profile.spec.size;
  if (size !== undefined) known("size", size, () => findSize(core, size));
  if (req.hypervisor !== undefined) {
    const here = await kahuHypervisor(core);
    if (!namesThisHypervisor(req.hypervisor, here.name)) {
      throw new BadRequest(
        `hypervisor ${req.hypervisor} is not a hypervisor instance here (this host is ${hypervisorUri(scope)})`,
      );
    }
  }
  const op = await createVm(core, caller, {
    profile: profile.name,
    ...(req.size !== undefined ? { size: req.size } : {}),
    start: false,
    project: scope.project,
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.sshKey !== undefined ? { ssh_keys: [req.sshKey] } : {}),
  });
  const vm = (await operationFinished(core.ops, op)).result as Vm;
  const id = instanceId(core, vm);
  return {
    id,
    location: instanceUri(scope, id),
    body: {
      message: "instance created",
      profile: profileUri(scope, profile.name),
      ...(size !== undefined ? { size: sizeUri(scope, size) } : {}),
      ...(req.sshKey !== undefined ? { "ssh-key": req.sshKey } : {}),
    },
  };
}

/** Kahu answered 400 to a start or stop of an instance already in that state. */
export async function powerInstance(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  action: "start" | "stop",
): Promise<{ message: string }> {
  const vm = await instanceVm(core, caller, scope, id);
  try {
    await operationFinished(core.ops, await powerVm(core, caller, vm.name, action));
  } catch (e) {
    if (e instanceof Conflict && e.details?.state !== undefined) {
      throw new BadRequest(`instance ${id} is already ${action === "start" ? "running" : "stopped"}`, {
        cause: e,
      });
    }
    throw e;
  }
  return { message: action === "start" ? "instance started" : "instance stopped" };
}

/** Only a stopped instance may be deleted (400 otherwise, as the document says). */
export async function deleteInstance(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
): Promise<{ message: string }> {
  const vm = await instanceVm(core, caller, scope, id);
  if (vm.state !== "shutoff" && vm.state !== "absent") {
    throw new BadRequest(`instance ${id} is ${vm.status}: stop it before deleting it`);
  }
  await operationFinished(core.ops, deleteVmOp(core, caller, vm.name));
  return { message: "instance deleted" };
}

/** The IPv4 address of the instance's interface `iface` (a key of its network map); 404 until its lease shows. */
export async function instanceAddress(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  iface: string,
): Promise<{ IPv4: string }> {
  const vm = await instanceVm(core, caller, scope, id);
  const keys = Object.keys(kahuNetworks(vm.nics.map((n) => n.network)));
  const index = keys.indexOf(iface);
  if (index < 0) throw new NotFound(`instance ${id} has no network interface ${iface}`);
  const nic = (await vmAddresses(core, caller, vm.name))[index];
  const ipv4 = nic?.addresses.find((a) => a.family === "ipv4");
  if (!ipv4) throw new NotFound(`instance ${id} has no IPv4 address on ${iface} yet`);
  return { IPv4: ipv4.address };
}
