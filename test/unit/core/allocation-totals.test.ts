// The allocation totals kept by triggers (migration 19) always equal a full sum over every VM: capacity checks read them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { createVm } from "../../../src/core/vms/create.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { allocation, allocationBySum } from "../../../src/db/allocation.ts";
import { MIGRATIONS } from "../../../src/db/migrations.ts";
import { migrate, openDatabase } from "../../../src/db/open.ts";
import { deletePvcVolume, insertPvcVolume, setPvcVolumeSize } from "../../../src/db/pvc-volumes.ts";
import { deleteVmRow, insertAdoptedVm, setVmStatusIfUnchanged } from "../../../src/db/reconcile.ts";
import {
  deleteDisk,
  deleteVm,
  disksOf,
  insertDisk,
  nicsOf,
  replaceDevices,
  setVmShape,
  updateDiskSize,
  updateVm,
  vmByName,
} from "../../../src/db/vms.ts";
import { HypervisorUnavailable } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

const GiB = 1024 ** 3;
const POOL = "at-pool";
let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "${POOL}"`));
});
afterAll(async () => {
  await core.hv.call("pool.destroy", { pool: POOL }).catch(() => undefined);
  await core.hv.call("pool.undefine", { pool: POOL }).catch(() => undefined);
  await core.close();
});

/** The totals and the full sum agree, with and without a VM left out; returns the totals. */
function agree(db = core.db) {
  const totals = allocation(db);
  expect(totals).toEqual(allocationBySum(db));
  const some = db.query("SELECT id FROM vms ORDER BY id LIMIT 1").get() as { id: string } | null;
  if (some) expect(allocation(db, some.id)).toEqual(allocationBySum(db, some.id));
  return totals;
}

async function created(name: string, extra: Record<string, unknown> = {}) {
  const op = await createVm(core, SYSTEM, { name, cpus: 2, memory_mib: 96, root_disk_gb: 1, ...extra });
  const done = await core.ops.wait(op.id, 10);
  expect(done.status).toBe("succeeded");
  return vmByName(core.db, name)?.id as string;
}

describe("allocation totals against a full sum", () => {
  test("creates (with extra disks), a failed create, deletes, and rows written by reconcile", async () => {
    const before = agree();
    await created("at-a");
    await created("at-b", { disks: [{ size_gb: 2 }, { size_gb: 3 }] });
    const after = agree();
    expect(after.vcpus - before.vcpus).toBe(4);
    expect(after.memory_mib - before.memory_mib).toBe(192);
    expect(after.disk_bytes - before.disk_bytes).toBe(7 * GiB);

    // A create libvirt refuses to start undoes itself: its row and disks go, and so does what they held.
    const hv = {
      get state() {
        return core.hv.state;
      },
      call: async (op: string, args: unknown) => {
        if (op === "domain.create") throw new HypervisorUnavailable("hypervisor unavailable: injected");
        return core.hv.call(op as never, args as never);
      },
    } as unknown as Core["hv"];
    const failing = await createVm({ ...core, hv }, SYSTEM, { name: "at-fail", cpus: 1, memory_mib: 64 });
    expect((await core.ops.wait(failing.id, 10)).status).toBe("failed");
    expect(vmByName(core.db, "at-fail")).toBeNull();
    expect(agree()).toEqual(after);

    const del = deleteVmOp(core, SYSTEM, "at-b");
    expect((await core.ops.wait(del.id, 10)).status).toBe("succeeded");
    const deleted = agree();
    expect(after.disk_bytes - deleted.disk_bytes).toBe(6 * GiB);

    // Reconcile's own writes: an adopted domain, a status synced, a row removed.
    insertAdoptedVm(core.db, {
      id: "at-adopted",
      name: "at-adopted",
      uuid: "00000000-0000-4000-8000-00000000a0a0",
      status: "running",
      vcpus: 3,
      memory_mib: 128,
      boot: '{"mode":"disk"}',
      description: "",
      at: "2026-01-01T00:00:00.000Z",
      disks: [
        {
          unit: 0,
          name: "root",
          volume: "at-adopted.qcow2",
          path: "/x/at-adopted.qcow2",
          format: "qcow2",
          device: "disk",
          size: 5 * GiB,
          bus: "scsi",
        },
      ],
      nics: [],
    } as Parameters<typeof insertAdoptedVm>[1]);
    agree();
    setVmStatusIfUnchanged(core.db, "at-adopted", "running", "9999", "gone", "2026-01-02T00:00:00.000Z");
    expect(agree()).toEqual(deleted);
    deleteVmRow(core.db, "at-adopted");
    expect(agree()).toEqual(deleted);
  });

  test("gone and back, resizes, disks added, grown, removed and replaced, cdroms never", () => {
    const base = agree();
    insertVmRow(core.db, { id: "at-r", name: "at-r", vcpus: 2, memory_mib: 256, diskBytes: 4 * GiB });
    agree();
    updateVm(core.db, "at-r", { status: "gone" });
    expect(agree()).toEqual(base);
    // While gone its disks change without counting; back, they count as they are then.
    updateDiskSize(core.db, "at-r", 0, 6 * GiB);
    expect(agree()).toEqual(base);
    updateVm(core.db, "at-r", { status: "stopped" });
    expect(agree().disk_bytes - base.disk_bytes).toBe(6 * GiB);
    setVmShape(core.db, "at-r", 4, 512, "2026-01-03T00:00:00.000Z");
    updateVm(core.db, "at-r", { vcpus: 5, status: "running" });
    expect(agree().vcpus - base.vcpus).toBe(5);
    const disk = {
      vm_id: "at-r",
      name: "d1",
      volume: "at-r-1.qcow2",
      path: "/x/at-r-1",
      format: "qcow2",
      image: null,
      bus: "scsi" as const,
    };
    insertDisk(core.db, { ...disk, unit: 1, device: "disk", size: GiB });
    insertDisk(core.db, { ...disk, unit: 2, name: "cd", device: "cdrom", size: 7 * GiB });
    expect(agree().disk_bytes - base.disk_bytes).toBe(7 * GiB);
    updateDiskSize(core.db, "at-r", 1, 2 * GiB);
    updateDiskSize(core.db, "at-r", 2, 9 * GiB);
    expect(agree().disk_bytes - base.disk_bytes).toBe(8 * GiB);
    core.db.query("UPDATE vm_disks SET device = 'cdrom' WHERE vm_id = 'at-r' AND unit = 1").run();
    expect(agree().disk_bytes - base.disk_bytes).toBe(6 * GiB);
    deleteDisk(core.db, "at-r", 0);
    expect(agree().disk_bytes - base.disk_bytes).toBe(0);
    replaceDevices(
      core.db,
      "at-r",
      [{ ...disk, unit: 0, device: "disk", size: 3 * GiB }],
      nicsOf(core.db, "at-r"),
    );
    expect(disksOf(core.db, "at-r")).toHaveLength(1);
    expect(agree().disk_bytes - base.disk_bytes).toBe(3 * GiB);
    deleteVm(core.db, "at-r");
    expect(agree()).toEqual(base);
  });

  test("PVC volumes count once, whether or not a VM disk uses them", () => {
    const base = agree();
    const at = "2026-01-01T00:00:00.000Z";
    insertPvcVolume(core.db, {
      pool: POOL,
      name: "v1",
      volume: "at-pvc.qcow2",
      size: 2 * GiB,
      owner: null,
      created_at: at,
    });
    expect(agree().disk_bytes - base.disk_bytes).toBe(2 * GiB);
    insertVmRow(core.db, { id: "at-p", name: "at-p", diskBytes: GiB });
    core.db.query("UPDATE vm_disks SET volume = 'at-pvc.qcow2', size = ? WHERE vm_id = 'at-p'").run(2 * GiB);
    expect(agree().disk_bytes - base.disk_bytes).toBe(2 * GiB);
    setPvcVolumeSize(core.db, POOL, "v1", 3 * GiB);
    agree();
    deleteVm(core.db, "at-p");
    expect(agree().disk_bytes - base.disk_bytes).toBe(3 * GiB);
    deletePvcVolume(core.db, POOL, "v1");
    expect(agree()).toEqual(base);
  });

  test("a database from before the totals gets them from its rows, and they survive a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-alloc-"));
    const old = openDatabase(dir, { migrations: MIGRATIONS.slice(0, 18) });
    insertVmRow(old, { id: "o1", name: "o1", vcpus: 2, memory_mib: 100, diskBytes: GiB });
    insertVmRow(old, { id: "o2", name: "o2", vcpus: 3, memory_mib: 200, diskBytes: 2 * GiB, status: "gone" });
    migrate(old);
    expect(agree(old)).toEqual({ vcpus: 2, memory_mib: 100, disk_bytes: GiB });
    insertVmRow(old, { id: "o3", name: "o3", vcpus: 1, memory_mib: 50, diskBytes: GiB });
    old.close();
    const reopened = openDatabase(dir);
    expect(agree(reopened)).toEqual({ vcpus: 3, memory_mib: 150, disk_bytes: 2 * GiB });
    reopened.close();
  });
});
