// Capacity on the test driver: the host's size from node info, berth's allocation from its records, the pool's space.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  checkDiskSize,
  checkDisksFit,
  checkShape,
  checkTotal,
  hostSize,
  knownHostSize,
  poolSpace,
} from "../../../src/core/capacity.ts";
import type { DiskRow, VmRow, VmStatus } from "../../../src/db/vms.ts";
import { insertVm } from "../../../src/db/vms.ts";
import { AppError } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";

const GiB = 1024 ** 3;
const POOL = "cap-unit-pool";
let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(
    testConfig(
      `[storage]\npool = "${POOL}"\n[capacity]\nvcpu_overcommit = 2\nmemory_overcommit = 1\nmax_disk_gb = 50\ndisk_overcommit = 0.5`,
    ),
  );
});
afterAll(async () => {
  await core.hv.call("pool.destroy", { pool: POOL }).catch(() => undefined);
  await core.hv.call("pool.undefine", { pool: POOL }).catch(() => undefined);
  await core.close();
});

/** The error `fn` throws, as status and code. */
function refusal(fn: () => void): { status: number; code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { status: e.httpStatus, code: e.errorCode, message: e.message };
  }
}

let seq = 0;
/** Records a VM directly (no libvirt): what the allocation sums read. */
function recordVm(status: VmStatus, vcpus: number, memory_mib: number, diskBytes: number[] = []): string {
  const id = `cap-unit-${++seq}`;
  const row: VmRow = {
    id,
    name: id,
    uuid: null,
    status,
    vcpus,
    memory_mib,
    profile: null,
    image: null,
    boot: '{"mode":"disk"}',
    description: "",
    tags: "{}",
    ssh_keys: "[]",
    created_at: "2026-01-01T00:00:00.000Z",
    started_at: null,
    stopped_at: null,
    updated_at: "2026-01-01T00:00:00.000Z",
  };
  const disks: DiskRow[] = diskBytes.map((size, unit) => ({
    vm_id: id,
    unit,
    name: `d${unit}`,
    volume: `${id}-${unit}.qcow2`,
    path: `/nowhere/${id}-${unit}.qcow2`,
    format: "qcow2",
    device: "disk",
    size,
    image: null,
    bus: "scsi",
  }));
  insertVm(core.db, row, disks, []);
  return id;
}

describe("the host", () => {
  test("its size comes from libvirt's node info (test:///default: 16 CPUs, 3 GiB) and is kept", async () => {
    expect(await hostSize(core)).toEqual({ cpus: 16, memory_mib: 3072 });
    // buildCore read it already, so definitions can check it without waiting on libvirt.
    expect(knownHostSize(core)).toEqual({ cpus: 16, memory_mib: 3072 });
  });

  test("one VM may have the host's CPUs and memory, not one more: 400", () => {
    const host = { cpus: 16, memory_mib: 3072 };
    expect(refusal(() => checkShape(host, { vcpus: 16, memory_mib: 3072 }, "vm a"))).toBeNull();
    expect(refusal(() => checkShape(host, { vcpus: 17, memory_mib: 64 }, "vm a"))).toEqual({
      status: 400,
      code: "invalid_request",
      message: "vm a: 17 vcpus is more than the host's 16 CPUs",
    });
    expect(refusal(() => checkShape(host, { vcpus: 1, memory_mib: 3073 }, "vm a"))?.message).toBe(
      "vm a: 3073 MiB of memory is more than the host's 3072 MiB",
    );
  });
});

describe("berth's allocation against host × overcommit", () => {
  test("every VM not gone counts, creating and stopped ones too; the VM being resized does not count twice", async () => {
    const host = await hostSize(core);
    // vcpu_overcommit 2: 32 vCPUs; memory_overcommit 1: 3072 MiB.
    const a = recordVm("running", 20, 1024);
    recordVm("creating", 8, 1024);
    recordVm("stopped", 2, 512);
    recordVm("gone", 100, 100_000);
    expect(refusal(() => checkTotal(core, host, { vcpus: 2, memory_mib: 512 }, null))).toBeNull();
    expect(refusal(() => checkTotal(core, host, { vcpus: 3, memory_mib: 64 }, null))).toEqual({
      status: 409,
      code: "capacity_exceeded",
      message:
        "not enough vCPUs: berth's VMs hold 30 of 32 (16 host CPUs × vcpu_overcommit 2) and this asks for 3 more",
    });
    expect(refusal(() => checkTotal(core, host, { vcpus: 1, memory_mib: 513 }, null))?.message).toBe(
      "not enough memory: berth's VMs hold 2560 of 3072 MiB (3072 MiB × memory_overcommit 1) and this asks for 513 MiB more",
    );
    // Resizing a (20 vCPUs, 1024 MiB) to 22 and 1536: its own share is replaced, not added.
    expect(refusal(() => checkTotal(core, host, { vcpus: 22, memory_mib: 1536 }, a))).toBeNull();
    expect(refusal(() => checkTotal(core, host, { vcpus: 23, memory_mib: 1024 }, a))?.code).toBe(
      "capacity_exceeded",
    );
    core.db.query("DELETE FROM vms WHERE id LIKE 'cap-unit-%'").run();
  });
});

describe("disks", () => {
  test("a disk may be max_disk_gb, not a byte more: 400", () => {
    expect(refusal(() => checkDiskSize(core, "disk data", 50 * GiB))).toBeNull();
    expect(refusal(() => checkDiskSize(core, "disk data", 50 * GiB + 1))).toEqual({
      status: 400,
      code: "invalid_request",
      message: "disk data: 50 GiB is more than the largest disk allowed, 50 GiB",
    });
  });

  test("the pool's capacity and free space come from libvirt (test:///default: 100 GiB)", async () => {
    const space = await poolSpace(core, 0);
    expect(space).toEqual({ pool: POOL, capacity: 100 * GiB, available: 100 * GiB });
  });

  test("new disks fit in free space × disk_overcommit, all of berth's disks in capacity × disk_overcommit: else 507", async () => {
    // disk_overcommit 0.5: a request may take half the free space, berth's disks half the capacity.
    const space = { pool: POOL, capacity: 100 * GiB, available: 30 * GiB };
    expect(refusal(() => checkDisksFit(core, space, 15 * GiB))).toBeNull();
    expect(refusal(() => checkDisksFit(core, space, 15 * GiB + 1))).toEqual({
      status: 507,
      code: "insufficient_storage",
      message: `the new disks need 15 GiB and storage pool ${POOL} has 30 GiB free (× disk_overcommit 0.5: 15 GiB)`,
    });
    // A gone VM's disks do not count.
    recordVm("stopped", 1, 64, [40 * GiB]);
    recordVm("gone", 1, 64, [500 * GiB]);
    expect(refusal(() => checkDisksFit(core, space, 10 * GiB))).toBeNull();
    expect(refusal(() => checkDisksFit(core, space, 10 * GiB + 1))).toEqual({
      status: 507,
      code: "insufficient_storage",
      message: `berth's VM disks total 40 GiB of 50 GiB (storage pool ${POOL}'s 100 GiB × disk_overcommit 0.5) and the new disks need 10 GiB more`,
    });
    core.db.query("DELETE FROM vms WHERE id LIKE 'cap-unit-%'").run();
  });

  test("disk_overcommit 0 leaves space to the admin: nothing is refused for space", async () => {
    const off = await testCore(testConfig(`[storage]\npool = "${POOL}"\n[capacity]\ndisk_overcommit = 0`));
    try {
      const space = { pool: POOL, capacity: GiB, available: 0 };
      expect(refusal(() => checkDisksFit(off, space, 64 * 1024 * GiB))).toBeNull();
    } finally {
      await off.close();
    }
  });
});
