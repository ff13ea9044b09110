// sysadm's iohyve class over core: each action of its document on berth's VMs, disks and ISO images, for a caller core authorizes.
import { setMeta } from "../../db/host-meta.ts";
import { BadRequest, NotFound } from "../../errors.ts";
import { BERTH_VERSION } from "../../version.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { deleteImage, getImage, listImages, renameImage } from "../images/index.ts";
import { operationFinished } from "../operation-outcome.ts";
import {
  addDisk,
  createVm,
  deleteVmOp,
  getVm,
  growDisk,
  listVmViews,
  powerVm,
  removeDisk,
  updateVmSettings,
  type Vm,
  type VmDisk,
} from "../vms/index.ts";
import { fetchIso, installIso, isoImage, shownIso } from "./sysadm-iso.ts";
import { iohyveSize, iohyveSizeGb, iohyveSizeMib } from "./sysadm-sizes.ts";

export type IohyveArgs = Record<string, unknown>;
type Action = (core: Core, caller: Caller | null, args: IohyveArgs) => Promise<unknown> | unknown;

/** The properties getprops shows; setprop changes those berth can (ram, cpu, description), the rest are read-only. */
export const SETTABLE_PROPS = ["ram", "cpu", "description"] as const;
export const READ_ONLY_PROPS = ["boot", "size", "os", "loader", "con", "tap", "persist", "install"] as const;

/** iohyve's defaults for a new guest (v0.7.9): 1 vCPU, 512M of memory. */
const NEW_GUEST = { cpus: 1, memory_mib: 512 };

/** The berth image an iohyve ISO name stands for, when it is an ISO: rmiso never removes a disk image. */
function isoNamed(core: Core, caller: Caller | null, shown: string): string {
  const name = isoImage(shown);
  if (getImage(core, caller, name).kind !== "iso") throw new NotFound(`there is no ISO ${shown}`);
  return name;
}

/** A required string argument; missing, sysadm's in-band message. */
function need(args: IohyveArgs, key: string): string {
  const v = args[key];
  if (v === undefined || v === "") throw new BadRequest(`Missing required key '${key}'`);
  if (typeof v !== "string") throw new BadRequest(`key '${key}' must be a string`);
  return v;
}

function optional(args: IohyveArgs, key: string): string | undefined {
  return args[key] === undefined ? undefined : need(args, key);
}

/** The VM's disks in iohyve's order (disk0 the root, then the others; CD-ROMs are not disks). */
function guestDisks(vm: Vm): VmDisk[] {
  return vm.disks.filter((d) => d.device === "disk");
}

/** The berth disk an iohyve disk name (`disk0`, `disk1`, …) stands for. */
function diskNamed(vm: Vm, disk: string): VmDisk {
  const n = /^disk(0|[1-9][0-9]?)$/.exec(disk)?.[1];
  const d = n === undefined ? undefined : guestDisks(vm)[Number(n)];
  if (!d) throw new BadRequest(`${vm.name} has no disk ${disk}`);
  return d;
}

const yesNo = (b: boolean) => (b ? "YES" : "NO");

/** Every property getprops shows, as iohyve names them. */
function props(vm: Vm): Record<string, string> {
  const disk0 = guestDisks(vm)[0];
  return {
    name: vm.name,
    ram: iohyveSize(vm.memory_mib * 1024 ** 2),
    cpu: String(vm.vcpus),
    description: vm.description,
    boot: "0",
    size: disk0 ? iohyveSize(disk0.size) : "0",
    os: "default",
    loader: "libvirt",
    con: "serial",
    tap: vm.nics.map((n) => n.network).join(",") || "none",
    persist: "1",
    install: vm.boot.mode === "iso" || vm.disks.some((d) => d.device === "cdrom") ? "yes" : "no",
  };
}

async function setprop(core: Core, caller: Caller | null, args: IohyveArgs) {
  const name = need(args, "name");
  const set: Record<string, string> = {};
  const req: { memory_mib?: number; cpus?: number; description?: string } = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === "action" || key === "name") continue;
    if (typeof value !== "string") throw new BadRequest(`property ${key} must be a string`);
    if ((READ_ONLY_PROPS as readonly string[]).includes(key))
      throw new BadRequest(`property ${key} is read-only in berth`);
    if (key === "ram") req.memory_mib = iohyveSizeMib(value, "ram");
    else if (key === "cpu") {
      if (!/^[1-9][0-9]{0,2}$/.test(value)) throw new BadRequest(`cpu ${value} is not a number of CPUs`);
      req.cpus = Number(value);
    } else if (key === "description") req.description = value;
    else throw new BadRequest(`unknown property ${key}`);
    set[key] = value;
  }
  if (Object.keys(set).length === 0) throw new BadRequest("Missing a property to set");
  await updateVmSettings(core, caller, name, req);
  return { [name]: set };
}

async function stop(core: Core, caller: Caller | null, args: IohyveArgs) {
  const name = need(args, "name");
  // force=true stops it at once (sysadm meant to, its test was inverted); otherwise an ACPI shutdown is asked for.
  if (optional(args, "force") === "true")
    await operationFinished(core.ops, await powerVm(core, caller, name, "stop"));
  // The ACPI request is made and left to the guest, as `iohyve stop` returned at once.
  else await powerVm(core, caller, name, "shutdown", { force: false });
  return { name };
}

const ACTIONS: Record<string, Action> = {
  async listvms(core, caller) {
    const vms = await listVmViews(core, caller);
    return Object.fromEntries(
      vms.map((vm) => {
        const running = vm.state === "running";
        return [
          vm.name,
          { vmm: yesNo(running), running: yesNo(running), rcboot: "NO", description: vm.description },
        ];
      }),
    );
  },
  listisos(core, caller) {
    return listImages(core, caller, { kind: "iso" })
      .filter((i) => i.status === "ready")
      .map((i) => shownIso(i.name));
  },
  fetchiso: (core, caller, args) => fetchIso(core, caller, need(args, "url")),
  renameiso(core, caller, args) {
    const source = need(args, "source");
    const target = need(args, "target");
    renameImage(core, caller, isoNamed(core, caller, source), isoImage(target));
    return { source, target };
  },
  async rmiso(core, caller, args) {
    const target = need(args, "target");
    await deleteImage(core, caller, isoNamed(core, caller, target));
    return { target };
  },
  setup(core, caller, args) {
    const pool = need(args, "pool");
    const nic = need(args, "nic");
    requireAdmin(core, caller, "set iohyve up");
    // berth needs no setup; what was asked is kept, as sysadm wrote it to rc.conf.
    setMeta(core.db, "sysadm_iohyve_setup", JSON.stringify({ pool, nic }));
    return { pool, nic };
  },
  issetup: () => ({ setup: "true" }),
  async create(core, caller, args) {
    const name = need(args, "name");
    const size = need(args, "size");
    const root_disk_gb = iohyveSizeGb(size, "size");
    // iohyve's guest got a tap on its setup nic: berth's gets a NIC on [sysadm] network, when one is named.
    const network = core.config.sysadm.network;
    const networks = network === "" ? [] : [network];
    const made = await createVm(core, caller, { name, ...NEW_GUEST, root_disk_gb, networks, start: false });
    await operationFinished(core.ops, made);
    return { name, size };
  },
  install: async (core, caller, args) => {
    const name = need(args, "name");
    const iso = need(args, "iso");
    await installIso(core, caller, name, iso);
    return { name, iso };
  },
  async start(core, caller, args) {
    const name = need(args, "name");
    await operationFinished(core.ops, await powerVm(core, caller, name, "start"));
    return { name };
  },
  stop,
  async delete(core, caller, args) {
    const name = need(args, "name");
    await operationFinished(core.ops, deleteVmOp(core, caller, name));
    return { name };
  },
  async adddisk(core, caller, args) {
    const name = need(args, "name");
    const size = need(args, "size");
    const pool = optional(args, "pool");
    // berth has one storage pool: naming another is refused rather than ignored.
    if (pool !== undefined && pool !== core.config.storage.pool)
      throw new BadRequest(`pool ${pool} is not berth's storage pool ${core.config.storage.pool}`);
    await operationFinished(
      core.ops,
      await addDisk(core, caller, name, { size_gb: iohyveSizeGb(size, "size") }),
    );
    return { [name]: pool === undefined ? { size } : { size, pool } };
  },
  async listdisks(core, caller, args) {
    const vm = await getVm(core, caller, need(args, "name"));
    return Object.fromEntries(guestDisks(vm).map((d, i) => [`disk${i}`, iohyveSize(d.size)]));
  },
  async resizedisk(core, caller, args) {
    const name = need(args, "name");
    const disk = need(args, "disk");
    const size = need(args, "size");
    const d = diskNamed(await getVm(core, caller, name), disk);
    await operationFinished(core.ops, await growDisk(core, caller, name, d.name, iohyveSizeGb(size, "size")));
    return { name, disk, size };
  },
  async deletedisk(core, caller, args) {
    const name = need(args, "name");
    const disk = need(args, "disk");
    if (disk === "disk0") throw new BadRequest("disk0 cannot be removed!");
    const d = diskNamed(await getVm(core, caller, name), disk);
    await operationFinished(core.ops, removeDisk(core, caller, name, d.name, {}));
    return { name, disk };
  },
  version: () => ({ version: `berth ${BERTH_VERSION}` }),
  async getprops(core, caller, args) {
    const vm = await getVm(core, caller, need(args, "name"));
    return { [vm.name]: props(vm) };
  },
  setprop,
};

/** Every action of the iohyve class document. */
export const IOHYVE_ACTIONS: readonly string[] = Object.keys(ACTIONS);

/** The keys each action reads besides `action`; setprop also takes its properties. */
export const IOHYVE_KEYS: Record<string, readonly string[]> = {
  listvms: [],
  listisos: [],
  fetchiso: ["url"],
  renameiso: ["source", "target"],
  rmiso: ["target"],
  setup: ["pool", "nic"],
  issetup: [],
  create: ["name", "size"],
  install: ["name", "iso"],
  start: ["name"],
  stop: ["name", "force"],
  delete: ["name"],
  adddisk: ["name", "size", "pool"],
  listdisks: ["name"],
  resizedisk: ["name", "disk", "size"],
  deletedisk: ["name", "disk"],
  version: [],
  getprops: ["name"],
  setprop: ["name", ...SETTABLE_PROPS, ...READ_ONLY_PROPS],
};

/** Runs one action (the caller checked `action` is one of IOHYVE_ACTIONS); its AppErrors are the in-band ones. */
export async function runIohyve(
  core: Core,
  caller: Caller | null,
  action: string,
  args: IohyveArgs,
): Promise<unknown> {
  const run = ACTIONS[action];
  if (!run) throw new BadRequest(`unknown action ${action}`);
  return await run(core, caller, args);
}
