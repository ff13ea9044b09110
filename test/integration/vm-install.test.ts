// A network install on real libvirtd + QEMU from a loopback install tree (Debian netboot layout, the tiny guest).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BerthEvent } from "../../src/core/events.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { debianTree, serveTree } from "../unit/core/install-fixtures.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-inst-${id}`;
const CMDLINE = "console=ttyS0 berth.installer=1";

describe.skipIf(!integrationReady())("network install on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  let tree: ReturnType<typeof serveTree>;
  const events: BerthEvent[] = [];

  beforeAll(async () => {
    buildGuest();
    tree = serveTree(debianTree("/debian/dists/berth/", Bun.file(GUEST.kernel), Bun.file(GUEST.initrd)));
    // The install tree is served on loopback.
    core = await systemCore(POOL, "[images]\nallow_private_networks = true\n");
    api = apiClient(core);
    core.events.subscribe((e) => events.push(e));
  }, 600_000);

  afterAll(async () => {
    tree?.stop();
    if (!core) return;
    for (const vm of (await api.get("/v1/vms")).body ?? []) await api.delete(`/v1/vms/${vm.name}?wait=true`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("boots the tree's installer with the cmdline; on its power-off berth boots the VM from disk", async () => {
    const name = `inst-${id}`;
    const r = await api.post("/v1/vms", {
      name,
      cpus: 1,
      memory_mib: 256,
      root_disk_gb: 1,
      install: { location: tree.url("/debian/dists/berth/main/installer-amd64"), cmdline: CMDLINE },
    });
    expect(r.status).toBe(202);
    const opId = r.body.id;
    const vmId = (await api.get(`/v1/vms/${name}`)).body.id;
    const log = `${core.config.data_dir}/console/${vmId}.log`;
    await waitFor(() => consoleReports(log).includes("installer done"), 120_000, "the installer to finish");
    expect(consoleReports(log)).toContain(`cmdline ${CMDLINE}`);

    const done = (await api.get(`/v1/operations/${opId}/wait?timeout=120`)).body;
    expect(done.status).toBe("succeeded");
    const phases = events
      .filter((e) => e.type === "operation.progress" && e.target === `operation/${opId}`)
      .map((e) => String(e.data.message));
    const order = ["fetching kernel", "fetching initrd", "installing", "installed: booting from disk"].map(
      (m) => phases.indexOf(m),
    );
    expect({ phases, ok: order.every((i) => i >= 0) }).toEqual({ phases, ok: true });
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // The definition switched: no installer kernel, boot from disk, a normal reboot; and it was started.
    const xml = await core.hv.call("domain.xml", { name, flags: 2 });
    expect(xml).not.toContain("<kernel>");
    expect(xml).not.toContain("<initrd>");
    expect(xml).toContain("<boot dev='hd'/>");
    expect(xml).toContain("<on_reboot>restart</on_reboot>");
    expect((await core.hv.call("domain.info", { name })).state).toBe("running");
    const vm: Json = (await api.get(`/v1/vms/${name}`)).body;
    expect(vm).toMatchObject({ status: "running", state: "running", boot: { mode: "disk" } });
    expect(vm.disks.map((d: Json) => d.name)).toEqual(["root"]);
    const vols = (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    expect(vols).not.toContain(`vm-${vmId}-install-kernel`);
    expect(vols).not.toContain(`vm-${vmId}-install-initrd`);
  }, 240_000);
});
