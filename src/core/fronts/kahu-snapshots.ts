// Kahu's snapshots of an instance over core's: take one (200 with its URI), list, show as the instance was, delete.
import { NotFound } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import type { Vm } from "../vms/index.ts";
import {
  createSnapshot,
  deleteSnapshotOp,
  getSnapshot,
  listSnapshots,
  type VmSnapshot,
} from "../vms/snapshots.ts";
import { type KahuScope, kahuNetworks, kahuTimestamp, kahuVolumes, profileUri, sizeUri } from "./kahu.ts";
import { instanceVm } from "./kahu-instances.ts";

/** A snapshot in the document's shape: the instance's network, profile, size and storage when it was taken. */
function view(scope: KahuScope, vm: Vm, s: VmSnapshot): Record<string, unknown> {
  const disks = s.disks.map((d) => {
    const now = vm.disks.find((x) => x.name === d.name);
    return {
      name: d.name,
      size: d.size,
      device: now?.device ?? ("disk" as const),
      format: now?.format ?? "qcow2",
      volume: now?.volume ?? "",
      bus: now?.bus,
    };
  });
  return {
    network: kahuNetworks(s.networks.map((n) => n.network)),
    profile: vm.profile === null ? null : profileUri(scope, vm.profile),
    size: vm.size === null ? null : sizeUri(scope, vm.size),
    storage: kahuVolumes(disks),
    timestamp: kahuTimestamp(s.created_at),
  };
}

export async function takeSnapshot(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  name: string,
): Promise<{ location: string }> {
  const vm = await instanceVm(core, caller, scope, id);
  await operationFinished(core.ops, await createSnapshot(core, caller, vm.name, { name }));
  return { location: `${scope.scope}/compute/instance/${id}/snapshot/${name}/` };
}

export async function listKahuSnapshots(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
): Promise<Record<string, Record<string, unknown>>> {
  const vm = await instanceVm(core, caller, scope, id);
  return Object.fromEntries(listSnapshots(core, caller, vm.name).map((s) => [s.name, view(scope, vm, s)]));
}

export async function showKahuSnapshot(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  name: string,
): Promise<Record<string, unknown>> {
  const vm = await instanceVm(core, caller, scope, id);
  try {
    return view(scope, vm, getSnapshot(core, caller, vm.name, name));
  } catch (e) {
    if (e instanceof NotFound) throw new NotFound(`instance ${id} has no snapshot ${name}`, { cause: e });
    throw e;
  }
}

export async function deleteKahuSnapshot(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  name: string,
): Promise<void> {
  const vm = await instanceVm(core, caller, scope, id);
  await operationFinished(core.ops, deleteSnapshotOp(core, caller, vm.name, name));
}
