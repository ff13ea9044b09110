// The staging hypervisor agent's model over core: its names, and its synchronous host and network actions.
import { AppError, BadRequest, NotFound } from "../../errors.ts";
import { assertVmActor, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import {
  createNetwork,
  deleteNetwork,
  findNetwork,
  type NetworkView,
  showNetwork,
} from "../networks/index.ts";
import { operationFinished, stillRunning, unlessFailed } from "../operation-outcome.ts";
import { MAX_WAIT_SECONDS, type Operation } from "../operations.ts";
import {
  type CreateVmRequest,
  createVm,
  deleteVmOp,
  getVm,
  installFromAgent,
  powerVm,
  type Vm,
} from "../vms/index.ts";
import { vmTarget } from "../vms/records.ts";
import { existingName, newName } from "./staging-names.ts";

/**
 * Says which staging name a core error is about, when berth knows it by another name. With `self`,
 * a 404 can only be about this host or network and says so in the agent's words.
 */
function about(kind: string, name: string, berth: string, e: unknown, self = true): unknown {
  if (!(e instanceof AppError)) return e;
  if (self && e instanceof NotFound) return new NotFound(`${kind} ${name} does not exist`, { cause: e });
  if (name === berth) return e;
  return new AppError(e.httpStatus, e.errorCode, `${kind} ${name}: ${e.message}`, {
    cause: e,
    ...(e.details ? { details: e.details } : {}),
  });
}

export interface HostRequest {
  memory: number;
  disks: number[];
  networks: string[];
  install?: boolean;
  location?: string;
  cmdline?: string;
}

/** One vCPU (the agent had no cpus field; virt-install's default), memory MB→MiB, first disk = root (sda). */
export function hostCreateRequest(core: Core, host: string, req: HostRequest): CreateVmRequest {
  const name = newName(core, "host", host);
  // The agent refused a body without install (400); location or cmdline alone is still a mistake.
  if (req.install !== true && (req.location !== undefined || req.cmdline !== undefined)) {
    throw new BadRequest("location and cmdline apply only with install: true");
  }
  const install = installFromAgent(req);
  const networks = req.networks.map((n) => {
    try {
      return findNetwork(core, existingName(core, "network", n)).name;
    } catch (e) {
      if (e instanceof NotFound) throw new BadRequest(`network ${n} does not exist`, { cause: e });
      throw e;
    }
  });
  const [root, ...rest] = req.disks;
  return {
    name,
    cpus: 1,
    memory_mib: req.memory,
    root_disk_gb: root,
    disks: rest.map((size_gb, i) => ({ name: `disk${i + 1}`, size_gb })),
    networks,
    description: `staging host ${host}`,
    ...(install ? { install } : {}),
  };
}

/**
 * Waits until the host exists: the create operation's end, or, for a network install (minutes to
 * hours), its start — the agent answered once virt-install had launched the installer.
 */
async function created(core: Core, op: Operation, name: string, installing: boolean): Promise<void> {
  if (!installing) {
    await operationFinished(core.ops, op);
    return;
  }
  let unsubscribe = () => {};
  const started = new Promise<"started">((resolve) => {
    unsubscribe = core.events.subscribe((e) => {
      if (e.type === "vm.created" && e.target === vmTarget(name)) resolve("started");
    });
  });
  try {
    const first = await Promise.race([core.ops.wait(op.id, MAX_WAIT_SECONDS), started]);
    if (first !== "started" && unlessFailed(first).status === "running") throw stillRunning(first);
  } finally {
    unsubscribe();
  }
}

export async function createHost(
  core: Core,
  caller: Caller | null,
  host: string,
  req: HostRequest,
): Promise<Vm> {
  const create = hostCreateRequest(core, host, req);
  const name = create.name as string;
  try {
    await created(core, await createVm(core, caller, create), name, create.install !== undefined);
    return await getVm(core, caller, name);
  } catch (e) {
    throw about("host", host, name, e, false);
  }
}

export async function getHost(core: Core, caller: Caller | null, host: string): Promise<Vm> {
  const name = existingName(core, "host", host);
  try {
    return await getVm(core, caller, name);
  } catch (e) {
    throw about("host", host, name, e);
  }
}

/**
 * A create still following its install holds the host for hours; deleting the host ends it first
 * (the agent's DELETE destroyed a domain mid-install). Other actions keep their 409.
 */
async function stopFollowingInstall(core: Core, caller: Caller | null, name: string): Promise<void> {
  const holder = core.locks.holder(vmTarget(name));
  const create = core.ops
    .list({ target: vmTarget(name), status: "running" })
    .find((op) => op.id === holder && op.kind === "vm.create");
  if (!create) return;
  if ((await getVm(core, caller, name)).status === "creating") return; // still building: a short 409 instead
  core.ops.cancel(create.id);
  await core.ops.wait(create.id, MAX_WAIT_SECONDS);
}

/** Removes the domain and exactly this host's own volumes (never another host's). */
export async function deleteHost(core: Core, caller: Caller | null, host: string): Promise<void> {
  const name = existingName(core, "host", host);
  try {
    assertVmActor(core, caller, name);
    await stopFollowingInstall(core, caller, name);
    await operationFinished(core.ops, deleteVmOp(core, caller, name));
  } catch (e) {
    throw about("host", host, name, e);
  }
}

/** Starts the host; one already running (an install too) is left as it is: the caller wants it up. */
export async function startHost(core: Core, caller: Caller | null, host: string): Promise<void> {
  const name = existingName(core, "host", host);
  try {
    assertVmActor(core, caller, name);
    const vm = await getVm(core, caller, name);
    if (vm.state === "running" || vm.state === "blocked") return;
    await operationFinished(core.ops, await powerVm(core, caller, name, "start"));
  } catch (e) {
    throw about("host", host, name, e);
  }
}

export async function getStagingNetwork(
  core: Core,
  caller: Caller | null,
  network: string,
): Promise<NetworkView> {
  const name = existingName(core, "network", network);
  try {
    return await showNetwork(core, caller, name);
  } catch (e) {
    throw about("network", network, name, e);
  }
}

/** An OVS network with an access VLAN; persistent and autostarted (the agent's were transient). */
export async function createStagingNetwork(
  core: Core,
  caller: Caller | null,
  network: string,
  req: { bridge: string; vlan: number },
): Promise<NetworkView> {
  const name = newName(core, "network", network);
  try {
    return await createNetwork(core, caller, { name, mode: "ovs", bridge: req.bridge, vlan: req.vlan });
  } catch (e) {
    throw about("network", network, name, e, false);
  }
}

export async function deleteStagingNetwork(
  core: Core,
  caller: Caller | null,
  network: string,
): Promise<void> {
  const name = existingName(core, "network", network);
  try {
    await deleteNetwork(core, caller, name);
  } catch (e) {
    throw about("network", network, name, e);
  }
}
