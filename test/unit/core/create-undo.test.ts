// A create whose undo fails (libvirt gone mid-revert) keeps its row as `creating`; reconcile then removes it all.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { reconcile } from "../../../src/core/reconcile/reconcile.ts";
import { createVm } from "../../../src/core/vms/create.ts";
import { HypervisorUnavailable } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";

// test:///default is shared by every connection in this process: this file's VM and pool are cu-*.
let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(testConfig('[storage]\npool = "cu-pool"'));
});
afterAll(async () => {
  await core.hv.call("pool.destroy", { pool: "cu-pool" }).catch(() => undefined);
  await core.hv.call("pool.undefine", { pool: "cu-pool" }).catch(() => undefined);
  await core.close();
});

const volumes = async () => (await core.hv.call("volume.list", { pool: "cu-pool" })).map((v) => v.name);
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name);

test("start fails and so does deleting the volume: the row stays creating, and reconcile cleans up", async () => {
  // Fault injector: libvirt refuses the start, then is unreachable while the create undoes itself.
  let down = false;
  const hv = {
    get state() {
      return core.hv.state;
    },
    call: async (op: string, args: unknown) => {
      if (op === "domain.create") {
        down = true;
        throw new HypervisorUnavailable("hypervisor unavailable: connection closed");
      }
      if (down && op === "volume.delete") throw new HypervisorUnavailable("hypervisor unavailable");
      return core.hv.call(op as never, args as never);
    },
  } as unknown as Core["hv"];
  const op = await createVm({ ...core, hv }, SYSTEM, {
    name: "cu-vm",
    cpus: 1,
    memory_mib: 64,
    root_disk_gb: 1,
  });
  const done = await core.ops.wait(op.id, 10);
  expect(done.error?.code).toBe("hypervisor_unavailable");
  const row = core.db.query("SELECT id, status FROM vms WHERE name = 'cu-vm'").get() as {
    id: string;
    status: string;
  };
  expect(row.status).toBe("creating");
  expect(await volumes()).toContain(`vm-${row.id}-0.qcow2`);
  expect(await domains()).not.toContain("cu-vm");

  // Libvirt is back: the next pass finishes the cleanup the create could not.
  const r = await reconcile(core, { domains: (n) => n.startsWith("cu-") });
  expect(r.errors).toEqual([]);
  expect(r.cleaned).toEqual(["cu-vm"]);
  expect(core.db.query("SELECT count(*) AS n FROM vms WHERE name = 'cu-vm'").get()).toEqual({ n: 0 });
  expect(await volumes()).not.toContain(`vm-${row.id}-0.qcow2`);
});

test("a create whose commit is refused (a full disk, a deferred constraint) starts nothing and holds no lock", async () => {
  // The commit itself fails: a foreign key checked only at COMMIT, set up by the caller's own records.
  const refuseCommit = () => {
    core.db.run("PRAGMA defer_foreign_keys = ON");
    core.db.run(
      "INSERT INTO pool_vms (vm_name, vm_id, pool, generation, status, created_at) VALUES ('cu-x', 'no-such-vm', 'cu-p', 0, 'pending', 'now')",
    );
  };
  const req = { name: "cu-commit", cpus: 1, memory_mib: 64, root_disk_gb: 1 };
  const ran: string[] = [];
  const off = core.events.subscribe((e) => {
    if (e.type.startsWith("operation.") && e.data.target === "vm/cu-commit") ran.push(e.type);
  });
  const refused = await createVm(core, SYSTEM, req, { recorded: refuseCommit }).then(
    () => null,
    (e: Error) => e.message,
  );
  expect(refused).toContain("FOREIGN KEY");
  await Bun.sleep(200); // a build that had started would have made (and undone) its volume and domain by now
  off();
  expect(ran).toEqual([]);
  expect(await domains()).not.toContain("cu-commit");
  expect((await volumes()).filter((v) => v.startsWith("vm-"))).toEqual([]);
  expect(core.db.query("SELECT count(*) AS n FROM vms WHERE name = 'cu-commit'").get()).toEqual({ n: 0 });
  expect(core.locks.holder("vm/cu-commit")).toBeUndefined();
  // The name is free: the same create now goes through.
  const op = await createVm(core, SYSTEM, req);
  expect((await core.ops.wait(op.id, 10)).status).toBe("succeeded");
  const { deleteVmOp } = await import("../../../src/core/vms/delete.ts");
  await core.ops.wait(deleteVmOp(core, SYSTEM, "cu-commit").id, 10);
});
