// reconcile on real libvirtd: a berth-marked domain with no row is reported, adopted or removed; a lost domain's row goes gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Core } from "../../src/core/context.ts";
import { reconcile } from "../../src/core/reconcile/reconcile.ts";
import { buildDomainXml } from "../../src/xml/domain.ts";
import { buildDirPoolXml, buildVolumeXml } from "../../src/xml/storage.ts";
import { testConfig, testCore } from "../support/core.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";

const id = `${process.pid}`;
const POOL = `berth-it-rc-pool-${id}`;
const DOM = `berth-it-rc-${id}`;
const BERTH_ID = `it-rc-${id}-${crypto.randomUUID()}`;
const VOL = `berth-it-rc-${id}.qcow2`;

describe.skipIf(!integrationReady())("reconcile on libvirtd", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  let dir = "";
  /** This libvirtd is shared with other test runs: every pass looks at this test's domain only. */
  const mine = { domains: (name: string) => name === DOM };
  const withOrphans = (orphans: "report" | "adopt" | "remove"): Core => ({
    ...core,
    config: { ...core.config, reconcile: { ...core.config.reconcile, orphans } },
  });
  const exists = async () => (await core.hv.call("domain.list", {})).some((d) => d.name === DOM);
  const quiet = <T>(p: Promise<T>) => p.catch(() => undefined);

  async function defineOrphan(): Promise<void> {
    const vol = await core.hv.call("volume.create", {
      pool: POOL,
      xml: buildVolumeXml({ name: VOL, capacityBytes: 16 * 1024 * 1024, format: "qcow2" }),
    });
    await core.hv.call("domain.define", {
      xml: buildDomainXml({
        name: DOM,
        type: "qemu",
        vcpus: 1,
        memoryMiB: 64,
        boot: { kind: "disk" },
        disks: [{ path: vol.path, format: "qcow2" }],
        nics: [],
        berthId: BERTH_ID,
      }),
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync("/tmp/berth-it-rc-");
    chmodSync(dir, 0o755);
    core = await testCore(
      testConfig(`[hypervisor]\ndomain_type = "qemu"\nworkers = 1\n[storage]\npool = "${POOL}"`, {
        BERTH_HYPERVISOR_URI: SYSTEM_URI,
      }),
    );
    await core.hv.call("pool.define", { xml: buildDirPoolXml({ name: POOL, path: join(dir, "pool") }) });
    await core.hv.call("pool.build", { pool: POOL });
    await core.hv.call("pool.create", { pool: POOL });
    await defineOrphan();
  }, 60_000);

  afterAll(async () => {
    if (core) {
      await quiet(core.hv.call("domain.destroy", { name: DOM }));
      await quiet(core.hv.call("domain.undefine", { name: DOM, flags: 3 }));
      await quiet(core.hv.call("volume.delete", { pool: POOL, volume: VOL }));
      await quiet(core.hv.call("pool.destroy", { pool: POOL }));
      await quiet(core.hv.call("pool.undefine", { pool: POOL }));
      await core.close();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a berth-marked domain with no row is reported and left alone", async () => {
    const r = await reconcile(withOrphans("report"), mine);
    expect(r.errors).toEqual([]);
    expect(r.orphans).toEqual([{ id: BERTH_ID, domain: DOM, action: "reported" }]);
    expect(await exists()).toBe(true);
  });

  test("adopt records it from libvirtd's XML; deleting the row makes it an orphan again", async () => {
    const r = await reconcile(withOrphans("adopt"), mine);
    expect(r.errors).toEqual([]);
    expect(r.orphans).toEqual([{ id: BERTH_ID, domain: DOM, action: "adopted", details: [] }]);
    const row = core.db.query("SELECT name, status, vcpus, memory_mib FROM vms WHERE id = ?").get(BERTH_ID);
    expect(row).toEqual({ name: DOM, status: "stopped", vcpus: 1, memory_mib: 64 });
    expect(core.db.query("SELECT volume FROM vm_disks WHERE vm_id = ?").all(BERTH_ID)).toEqual([
      { volume: VOL },
    ]);
    core.db.query("DELETE FROM vms WHERE id = ?").run(BERTH_ID);
  });

  test("remove stops and undefines it and deletes its volume in berth's pool", async () => {
    await core.hv.call("domain.create", { name: DOM });
    expect((await core.hv.call("domain.info", { name: DOM })).state).toBe("running");
    const r = await reconcile(withOrphans("remove"), mine);
    expect(r.errors).toEqual([]);
    expect(r.orphans).toEqual([{ id: BERTH_ID, domain: DOM, action: "removed", details: [`volume ${VOL}`] }]);
    expect(await exists()).toBe(false);
    const vols = await core.hv.call("volume.list", { pool: POOL });
    expect(vols.map((v) => v.name)).not.toContain(VOL);
    expect((await reconcile(withOrphans("remove"), mine)).orphans).toEqual([]);
  });

  test("a row whose domain does not exist is marked gone", async () => {
    const vmId = `it-rc-row-${id}`;
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
         VALUES (?, ?, 'running', 1, 64, '{"mode":"disk"}', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')`,
      )
      .run(vmId, `berth-it-rc-none-${id}`);
    const r = await reconcile(core, mine);
    expect(r.gone).toEqual([`berth-it-rc-none-${id}`]);
    expect(core.db.query("SELECT status FROM vms WHERE id = ?").get(vmId)).toEqual({ status: "gone" });
  });
});
