// Capacity: what the host can give (libvirt's node info, berth's storage pool) against what berth's VMs hold.
import { type Allocation, allocation } from "../db/allocation.ts";
import { type AppError, BadRequest, CapacityExceeded, InsufficientStorage } from "../errors.ts";
import { log } from "../log.ts";
import type { Core } from "./context.ts";
import { ensureRbdPool, RBD_FORMAT, rbdBackend } from "./storage/rbd.ts";
import { ensureStoragePool, forgetStoragePool, poolMissing, refreshPool } from "./storage-pool.ts";

const GiB = 1024 ** 3;
/** The host's CPUs and memory change only with hot-plug: one reading serves this long. */
const HOST_TTL_MS = 60_000;

export interface HostSize {
  cpus: number;
  memory_mib: number;
}

export interface VmShape {
  vcpus: number;
  memory_mib: number;
}

/** The storage pool's size and free space, in bytes, as libvirt measured them. */
export interface PoolSpace {
  pool: string;
  capacity: number;
  available: number;
}

/** How a refusal is worded as an error: 400 invalid_request unless the caller's input has its own code. */
type Refuse = (message: string) => AppError;
const badRequest: Refuse = (m) => new BadRequest(m);

// Per hypervisor client: a test's core on test:///default and one on qemu:///system are different hosts.
const hostSizes = new WeakMap<object, { at: number; size: HostSize }>();

/** The host's CPUs and memory from libvirt's node info, cached for HOST_TTL_MS. */
export async function hostSize(core: Core): Promise<HostSize> {
  const cached = hostSizes.get(core.hv);
  if (cached && Date.now() - cached.at < HOST_TTL_MS) return cached.size;
  const info = await core.hv.call("nodeInfo", {});
  const size = { cpus: info.cpus, memory_mib: Math.floor(info.memoryKiB / 1024) };
  hostSizes.set(core.hv, { at: Date.now(), size });
  return size;
}

/** The last reading of the host's size, for checks that cannot wait on libvirt (size and profile definitions). */
export function knownHostSize(core: Core): HostSize | null {
  return hostSizes.get(core.hv)?.size ?? null;
}

/** Reads the host's size now and whenever the hypervisor comes back, so knownHostSize has it; never throws. */
export async function watchHostSize(core: Core): Promise<void> {
  const read = () =>
    hostSize(core).then(
      () => undefined,
      (e) => log.debug("host size not read", { error: e instanceof Error ? e.message : String(e) }),
    );
  core.hv.onState((state) => {
    if (state === "up") void read();
  });
  if (core.hv.state === "up") await read();
}

/** 400 when one VM asks for more vCPUs or memory than the host has at all: no overcommit makes it run. */
export function checkShape(host: HostSize, shape: VmShape, what: string, refuse = badRequest): void {
  if (shape.vcpus > host.cpus) {
    throw refuse(`${what}: ${shape.vcpus} vcpus is more than the host's ${host.cpus} CPUs`);
  }
  if (shape.memory_mib > host.memory_mib) {
    throw refuse(`${what}: ${shape.memory_mib} MiB of memory is more than the host's ${host.memory_mib} MiB`);
  }
}

/** The same against the last known reading, when there is one (libvirt down: the VM's create checks again). */
export function checkShapeIfKnown(core: Core, shape: VmShape, what: string): void {
  const host = knownHostSize(core);
  if (host) checkShape(host, shape, what);
}

/** 409 capacity_exceeded when berth's VMs (but `exceptVmId`) plus `shape` would hold more than host × overcommit. */
export function checkTotal(
  core: Core,
  host: HostSize,
  shape: VmShape,
  exceptVmId: string | null,
  held: Allocation = allocation(core.db, exceptVmId),
): void {
  const { vcpu_overcommit: cpuRatio, memory_overcommit: memRatio } = core.config.capacity;
  const cpus = Math.floor(host.cpus * cpuRatio);
  if (held.vcpus + shape.vcpus > cpus) {
    throw new CapacityExceeded(
      `not enough vCPUs: berth's VMs hold ${held.vcpus} of ${cpus} (${host.cpus} host CPUs × vcpu_overcommit ${cpuRatio}) and this asks for ${shape.vcpus} more`,
    );
  }
  const mib = Math.floor(host.memory_mib * memRatio);
  if (held.memory_mib + shape.memory_mib > mib) {
    throw new CapacityExceeded(
      `not enough memory: berth's VMs hold ${held.memory_mib} of ${mib} MiB (${host.memory_mib} MiB × memory_overcommit ${memRatio}) and this asks for ${shape.memory_mib} MiB more`,
    );
  }
}

/** Both checks for a VM that exists or is recorded (`exceptVmId`: its current shape is replaced, not added). */
export async function checkVmShape(
  core: Core,
  shape: VmShape,
  what: string,
  exceptVmId: string | null,
  refuse = badRequest,
): Promise<void> {
  const host = await hostSize(core);
  checkShape(host, shape, what, refuse);
  checkTotal(core, host, shape, exceptVmId);
}

/** 400 when one disk is larger than [capacity] max_disk_gb; pure, so plans check it before anything else. */
export function checkDiskSize(core: Core, what: string, bytes: number): void {
  const max = core.config.capacity.max_disk_gb;
  if (bytes > max * GiB) {
    throw new BadRequest(`${what}: ${formatBytes(bytes)} is more than the largest disk allowed, ${max} GiB`);
  }
}

/**
 * The pool's capacity and free space. libvirt's figures date from its last refresh (guests write without
 * telling it), so when they say `need` bytes do not fit, the pool is refreshed and measured again.
 */
export async function poolSpace(core: Core, need: number): Promise<PoolSpace> {
  try {
    return await measurePool(core, await ensureStoragePool(core), need);
  } catch (e) {
    if (!poolMissing(e)) throw e;
    // Removed or stopped since berth ensured it: ensured again (defined, started) once.
    forgetStoragePool(core.hv);
    return measurePool(core, await ensureStoragePool(core), need);
  }
}

/**
 * The space a disk of `format` takes its `need` bytes from: with [storage] backend rbd a disk on RBD lives in
 * libvirt's rbd pool, whose capacity and free space are its Ceph cluster's (rados cluster stats); any other
 * disk in berth's directory pool.
 */
export async function spaceFor(
  core: Core,
  need: number,
  format: string | null | undefined,
): Promise<PoolSpace> {
  if (format !== RBD_FORMAT) return poolSpace(core, need);
  return measurePool(core, await ensureRbdPool(core), need);
}

async function measurePool(core: Core, pool: string, need: number): Promise<PoolSpace> {
  let info = await core.hv.call("pool.info", { pool });
  const ratio = core.config.capacity.disk_overcommit;
  // With the space checks off (ratio 0) nothing is measured against fresh figures.
  if (ratio > 0 && need > info.available * ratio) {
    await refreshPool(core, pool);
    info = await core.hv.call("pool.info", { pool });
  }
  return { pool, capacity: info.capacity, available: info.available };
}

/**
 * 507 when `need` new bytes of disk (virtual sizes) cannot fit. qcow2 is thin: a new disk takes almost
 * nothing at first, and disk_overcommit says how far virtual sizes may run ahead of real space. The new
 * disks of one request must fit in the pool's free space × disk_overcommit, and the virtual sizes of all
 * of berth's VM disks in its capacity × disk_overcommit. disk_overcommit 0 leaves space to the admin.
 */
export function checkDisksFit(core: Core, space: PoolSpace, need: number, held?: Allocation): void {
  const ratio = core.config.capacity.disk_overcommit;
  if (need <= 0 || ratio === 0) return;
  const free = Math.floor(space.available * ratio);
  if (need > free) {
    const scaled = ratio === 1 ? "" : ` (× disk_overcommit ${ratio}: ${formatBytes(free)})`;
    throw new InsufficientStorage(
      `the new disks need ${formatBytes(need)} and storage pool ${space.pool} has ${formatBytes(space.available)} free${scaled}`,
    );
  }
  const limit = Math.floor(space.capacity * ratio);
  const heldBytes = (held ?? allocation(core.db)).disk_bytes;
  if (heldBytes + need > limit) {
    throw new InsufficientStorage(
      `berth's VM disks total ${formatBytes(heldBytes)} of ${formatBytes(limit)} (storage pool ${space.pool}'s ${formatBytes(space.capacity)} × disk_overcommit ${ratio}) and the new disks need ${formatBytes(need)} more`,
    );
  }
}

/** Everything a new VM takes: its shape and its new disks' virtual sizes. */
export interface VmNeed extends VmShape {
  disk_bytes: number;
}

export interface Room {
  host: HostSize;
  /** berth's directory pool (config drives, ISOs; every disk on backend dir). */
  space: PoolSpace;
  /** Where the VM's own new disks go: `space`, or on backend rbd the rbd pool. */
  disks: PoolSpace;
}

/** Measures the host and the pools for a VM that needs `diskBytes` of new disks. */
export async function measureRoom(core: Core, diskBytes: number): Promise<Room> {
  const host = await hostSize(core);
  const space = await poolSpace(core, rbdBackend(core.config) ? 0 : diskBytes);
  const disks = rbdBackend(core.config) ? await spaceFor(core, diskBytes, RBD_FORMAT) : space;
  return { host, space, disks };
}

/**
 * 400, 409 or 507 unless a new VM fits in what `room` measured. Synchronous, so the caller records the VM
 * in the same turn and a concurrent create counts it.
 */
export function checkVmFits(core: Core, room: Room, need: VmNeed, what: string): void {
  checkShape(room.host, need, what);
  // One read of the totals serves both checks.
  const held = allocation(core.db);
  checkTotal(core, room.host, need, null, held);
  checkDisksFit(core, room.disks, need.disk_bytes, held);
}

function formatBytes(bytes: number): string {
  const tib = bytes / 1024 ** 4;
  if (tib >= 1) return `${Math.round(tib * 10) / 10} TiB`;
  return `${Math.round((bytes / GiB) * 10) / 10} GiB`;
}
