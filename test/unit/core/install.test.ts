// OS installs on the test driver: network install from a loopback tree, ISO install, the switch to disk boot, refusals.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { BerthEvent } from "../../../src/core/events.ts";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { followInstall, onInstallerStopped } from "../../../src/core/vms/install.ts";
import { buildDomainXml } from "../../../src/xml/domain.ts";
import { apiClient } from "../../support/api.ts";
import type { Json } from "../../support/http.ts";
import { type Fixtures, imageCore, makeFixtures, type TestCore } from "./images-fixtures.ts";
import { debianTree, fakeKernel, serveTree } from "./install-fixtures.ts";

let core: TestCore;
let api: ReturnType<typeof apiClient>;
let fx: Fixtures;
const events: BerthEvent[] = [];
const small = { cpus: 1, memory_mib: 64, root_disk_gb: 1 };
const tree = serveTree({
  ...debianTree("/debian/dists/t/", fakeKernel(), new Uint8Array(4096).fill(1)),
  ...debianTree("/bad/dists/t/", new Uint8Array(8192), new Uint8Array(16)),
});
const LOCATION = tree.url("/debian/dists/t/main/installer-amd64/");

beforeAll(async () => {
  fx = makeFixtures();
  core = await imageCore("", { importDirs: [fx.dir] });
  api = apiClient(core);
  core.events.subscribe((e) => events.push(e));
  const iso = await api.post("/v1/images?wait=true", { name: "inst-iso", kind: "iso", path: fx.iso });
  expect(iso.body.status).toBe("succeeded");
  const p = await api.post("/v1/profiles", {
    name: "iso-inst",
    boot: { mode: "iso", iso_image: "inst-iso" },
  });
  expect(p.status).toBe(201);
});
afterAll(async () => {
  tree.stop();
  await core.close();
  fx.remove();
});

const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name).sort();
const xmlOf = (name: string) => core.hv.call("domain.xml", { name });
const phases = (opId: string) =>
  events
    .filter((e) => e.type === "operation.progress" && e.target === `operation/${opId}`)
    .map((e) => String(e.data.message));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Creates without waiting and returns once the create operation reports "installing". */
async function createInstalling(body: Record<string, unknown>): Promise<Json> {
  const r = await api.post("/v1/vms", body);
  expect(r.status).toBe(202);
  await until(() => phases(r.body.id).includes("installing"), "the installing phase");
  return r.body;
}

describe("network install", () => {
  test("fetches the tree's kernel and initrd, boots them with the cmdline, then boots from disk on power-off", async () => {
    const op = await createInstalling({
      name: "net-1",
      ...small,
      install: { location: LOCATION, cmdline: "console=ttyS0 auto=true" },
    });
    const vm = (await api.get("/v1/vms/net-1")).body;
    expect(vm.boot).toEqual({ mode: "network", location: LOCATION, cmdline: "console=ttyS0 auto=true" });
    const dir = poolDir(core.config);
    const during = await xmlOf("net-1");
    expect(during).toContain(`<kernel>${join(dir, `vm-${vm.id}-install-kernel`)}</kernel>`);
    expect(during).toContain(`<initrd>${join(dir, `vm-${vm.id}-install-initrd`)}</initrd>`);
    expect(during).toContain("<cmdline>console=ttyS0 auto=true</cmdline>");
    // An installer's closing reboot must end the install, not loop back into the installer.
    expect(during).toContain("<on_reboot>destroy</on_reboot>");
    expect(await volumes()).toContain(`vm-${vm.id}-install-kernel`);
    expect(await Bun.file(join(dir, `vm-${vm.id}-install-kernel`)).bytes()).toEqual(fakeKernel());

    // The guest powers itself off: the installer is done.
    await core.hv.call("domain.shutdown", { name: "net-1" });
    const done = await api.get(`/v1/operations/${op.id}/wait?timeout=20`);
    expect(done.body.status).toBe("succeeded");
    expect(done.body.result.boot).toEqual({ mode: "disk" });
    const after = await xmlOf("net-1");
    expect(after).not.toContain("<kernel>");
    expect(after).not.toContain("<initrd>");
    expect(after).toContain("<boot dev='hd'/>");
    expect(after).toContain("<on_reboot>restart</on_reboot>");
    expect(await volumes()).not.toContain(`vm-${vm.id}-install-kernel`);
    expect(await volumes()).not.toContain(`vm-${vm.id}-install-initrd`);
    expect((await api.get("/v1/vms/net-1")).body).toMatchObject({ status: "running", state: "running" });
    const seen = phases(op.id);
    const order = ["fetching kernel", "fetching initrd", "installing", "installed: booting from disk"].map(
      (m) => seen.indexOf(m),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(readdirSync(stagingDir(core.config))).toEqual([]);
  });

  test("a profile's boot mode network installs the same way (the suite root works as location)", async () => {
    expect(
      (
        await api.post("/v1/profiles", {
          name: "net-inst",
          boot: { mode: "network", location: tree.url("/debian/dists/t/"), cmdline: "priority=low" },
        })
      ).status,
    ).toBe(201);
    const r = await api.post("/v1/vms?wait=true", {
      name: "net-2",
      profile: "net-inst",
      ...small,
      start: false,
    });
    expect(r.body.status).toBe("succeeded");
    expect(await xmlOf("net-2")).toContain("<cmdline>priority=low</cmdline>");
  });

  test("delete removes a pending install's kernel and initrd volumes", async () => {
    const id = (await api.get("/v1/vms/net-2")).body.id;
    expect(await volumes()).toContain(`vm-${id}-install-initrd`);
    expect((await api.delete("/v1/vms/net-2?wait=true")).body.status).toBe("succeeded");
    expect((await volumes()).filter((v) => v.startsWith(`vm-${id}`))).toEqual([]);
  });

  test("a location that is not an install tree is a 400 and creates nothing", async () => {
    const before = {
      vms: (await api.get("/v1/vms")).body.length,
      vols: await volumes(),
      doms: await domains(),
    };
    const r = await api.post("/v1/vms", {
      name: "net-x",
      ...small,
      install: { location: tree.url("/nothing/") },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("not_an_install_tree");
    expect(r.body.error.message).toContain(tree.url("/nothing/"));
    expect((await api.get("/v1/vms")).body.length).toBe(before.vms);
    expect(await volumes()).toEqual(before.vols);
    expect(await domains()).toEqual(before.doms);
    expect((await api.get("/v1/vms/net-x")).status).toBe(404);
  });

  test("malformed install requests are 400s", async () => {
    const cases: [unknown, string][] = [
      [{}, "location"],
      [{ location: LOCATION, extra: 1 }, "extra"],
      [{ location: LOCATION, cmdline: 5 }, "cmdline"],
      [{ location: "ftp://mirror/debian/" }, "only http and https"],
      [{ location: "nope" }, "is not a URL"],
      [{ location: LOCATION, cmdline: "a\u0007b" }, "control characters"],
    ];
    for (const [install, msg] of cases) {
      const r = await api.post("/v1/vms", { name: "net-y", ...small, install });
      expect({ install, status: r.status }).toEqual({ install, status: 400 });
      expect(r.body.error.message).toContain(msg);
    }
  });

  test("a kernel that is not a bzImage fails the create, which undoes itself", async () => {
    const before = await volumes();
    const r = await api.post("/v1/vms?wait=true", {
      name: "net-bad",
      ...small,
      install: { location: tree.url("/bad/dists/t/") },
    });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe("invalid_install_tree");
    expect((await api.get("/v1/vms/net-bad")).status).toBe(404);
    expect(await volumes()).toEqual(before);
    expect(await domains()).not.toContain("net-bad");
    expect(readdirSync(stagingDir(core.config))).toEqual([]);
  });
});

describe("ISO install", () => {
  test("boots the ISO from a SCSI cdrom, then detaches it and boots from disk on power-off", async () => {
    const op = await createInstalling({ name: "iso-1", profile: "iso-inst", ...small });
    const vm = (await api.get("/v1/vms/iso-1")).body;
    expect(vm.disks.map((d: Json) => [d.name, d.device, d.target])).toEqual([
      ["root", "disk", "sda"],
      ["install", "cdrom", "sdb"],
    ]);
    const during = await xmlOf("iso-1");
    expect(during).toContain("<boot dev='cdrom'/>");
    expect(during).toContain(vm.disks[1].path);
    expect(during).toContain("<on_reboot>destroy</on_reboot>");

    await core.hv.call("domain.shutdown", { name: "iso-1" });
    const done = await api.get(`/v1/operations/${op.id}/wait?timeout=20`);
    expect(done.body.status).toBe("succeeded");
    const after = await xmlOf("iso-1");
    expect(after).toContain("<boot dev='hd'/>");
    expect(after).not.toContain(vm.disks[1].path);
    expect(after).not.toContain("device='cdrom'");
    const now = (await api.get("/v1/vms/iso-1")).body;
    expect(now.boot).toEqual({ mode: "disk" });
    expect(now.disks.map((d: Json) => d.name)).toEqual(["root"]);
    expect(now.status).toBe("running");
    expect(phases(op.id)).toContain("installed: booting from disk");
  });

  test("an installer stopped from outside (not powered off) fails the operation and keeps the VM pending", async () => {
    const op = await createInstalling({ name: "iso-2", profile: "iso-inst", ...small });
    await core.hv.call("domain.destroy", { name: "iso-2" });
    const done = await api.get(`/v1/operations/${op.id}/wait?timeout=20`);
    expect(done.body.status).toBe("failed");
    expect(done.body.error).toMatchObject({ code: "install_failed", status: 502 });
    expect(done.body.error.message).toContain("destroyed");
    const vm = (await api.get("/v1/vms/iso-2")).body;
    expect(vm).toMatchObject({ status: "stopped", boot: { mode: "iso", iso_image: "inst-iso" } });
    expect(await xmlOf("iso-2")).toContain("<boot dev='cdrom'/>");
  });

  test("an install no operation follows (created stopped) finishes when the guest powers off", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "iso-3",
      profile: "iso-inst",
      ...small,
      start: false,
    });
    expect(r.body.status).toBe("succeeded");
    expect((await api.post("/v1/vms/iso-3/start?wait=true")).body.status).toBe("succeeded");
    await core.hv.call("domain.shutdown", { name: "iso-3" });
    // libvirt's event, as the pump delivers it (the test driver's events do not reach every core of a test run).
    const { uuid } = await core.hv.call("domain.info", { name: "iso-3" });
    onInstallerStopped(core, { type: "lifecycle", name: "iso-3", uuid, event: "stopped", detail: 0 });
    await until(
      () =>
        core.ops
          .list({ target: "vm/iso-3" })
          .some((o) => o.kind === "vm.install.finish" && o.status !== "running"),
      "the vm.install.finish operation",
    );
    const finish = core.ops.list({ target: "vm/iso-3" }).find((o) => o.kind === "vm.install.finish");
    expect(finish?.status).toBe("succeeded");
    expect(await xmlOf("iso-3")).toContain("<boot dev='hd'/>");
    expect((await api.get("/v1/vms/iso-3")).body).toMatchObject({
      boot: { mode: "disk" },
      status: "running",
    });
  });
  test("the watcher ignores a stop the guest did not do, a namesake domain, and VMs with no install pending", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "iso-4",
      profile: "iso-inst",
      ...small,
      start: false,
    });
    expect(r.body.status).toBe("succeeded");
    const { uuid } = await core.hv.call("domain.info", { name: "iso-4" });
    const other = "00000000-0000-4000-8000-000000000000";
    onInstallerStopped(core, { type: "lifecycle", name: "iso-4", uuid, event: "stopped", detail: 1 });
    onInstallerStopped(core, { type: "lifecycle", name: "iso-4", uuid, event: "crashed", detail: 0 });
    onInstallerStopped(core, { type: "lifecycle", name: "iso-4", uuid: other, event: "stopped", detail: 0 });
    const installed = (await core.hv.call("domain.info", { name: "iso-1" })).uuid;
    onInstallerStopped(core, {
      type: "lifecycle",
      name: "iso-1",
      uuid: installed,
      event: "stopped",
      detail: 0,
    });
    const finishes = (vm: string) =>
      core.ops.list({ target: `vm/${vm}` }).filter((o) => o.kind === "vm.install.finish");
    expect([...finishes("iso-4"), ...finishes("iso-1")]).toEqual([]);
    expect((await api.get("/v1/vms/iso-4")).body.boot.mode).toBe("iso");
  });
});

describe("following an install", () => {
  test("past its wait the create leaves the install pending (the watcher finishes it); a cancel stops following", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "iso-5",
      profile: "iso-inst",
      ...small,
      start: false,
    });
    const vm = r.body.result;
    expect((await api.post("/v1/vms/iso-5/start?wait=true")).body.status).toBe("succeeded");
    const messages: string[] = [];
    const ctx = {
      id: "t",
      signal: new AbortController().signal,
      progress: (_: number, m = "") => messages.push(m),
    };
    const t0 = Date.now();
    const after = await followInstall(core, vm, ctx, 50);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(after).toMatchObject({ state: "running", boot: { mode: "iso" } });
    expect(messages).toEqual([
      "installing",
      "installing: still running after 0 s; berth boots it from disk when it powers off",
    ]);
    const abort = new AbortController();
    abort.abort(new Error("cancelled"));
    const e = await followInstall(core, vm, { ...ctx, signal: abort.signal }).then(
      () => null,
      (x: unknown) => x,
    );
    expect((e as Error).message).toBe("cancelled");
    await api.delete("/v1/vms/iso-5?wait=true");
  });
});

test("the domain builder writes on_reboot destroy only when asked", () => {
  const spec = {
    name: "x",
    type: "qemu" as const,
    vcpus: 1,
    memoryMiB: 64,
    boot: { kind: "disk" as const },
    disks: [],
    nics: [],
  };
  expect(buildDomainXml(spec)).toContain("<on_reboot>restart</on_reboot>");
  expect(buildDomainXml({ ...spec, onReboot: "destroy" })).toContain("<on_reboot>destroy</on_reboot>");
});
