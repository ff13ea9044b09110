// PVC's VM endpoints on real libvirtd with the tiny guest, served over a real socket and driven by curl: define and start, modify with flag_restart, shutdown's hard-stop fallback, dump, undefine, remove.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listenerPlan } from "../../src/config/fronts.ts";
import { createApp } from "../../src/routes/app.ts";
import { fromXml } from "../../src/xml/codec.ts";
import { buildVolumeXml } from "../../src/xml/storage.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-pvc-${id}`;
const VM = `pvc-it-${id}`;
const IMAGE = `pvc-tiny-${id}`;
const DISK = `pvc-it-${id}.qcow2`;
const DISK2 = `pvc-it-${id}-2.qcow2`;
const SHUTDOWN_S = 3;
const MiB = 2 ** 20;

interface Answer {
  status: number;
  type: string;
  text: string;
  body: Json;
}

describe.skipIf(!integrationReady())("the PVC front's VMs on libvirtd", () => {
  let core: SystemCore;
  let server: ReturnType<typeof Bun.serve>;
  let base = "";
  let kernel: { path: string; initrd_path: string };
  let logFile: string;
  let uuid = "";
  const dir = mkdtempSync(join(tmpdir(), "berth-pvc-"));
  const blockLines = () => consoleReports(logFile).filter((l) => l === "block sda 2097152").length;
  const domainId = async () =>
    (fromXml(await core.hv.call("domain.xml", { name: VM })).domain as Json)["@id"];

  /** curl as a PVC user runs it: status, content type and body (JSON when it parses). */
  async function curl(path: string, ...args: string[]): Promise<Answer> {
    const p = Bun.spawn(
      ["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{content_type}", `${base}${path}`, ...args],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`curl ${path}: ${await new Response(p.stderr).text()}`);
    const cut = out.lastIndexOf("\n");
    const [status = "", type = ""] = out.slice(cut + 1).split(" ");
    const text = out.slice(0, cut);
    let body: Json = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null; // the XML dump
    }
    return { status: Number(status), type, text, body };
  }
  const state = async () => (await curl(`/api/v1/vm/${VM}`)).body[0].state as string;

  /** The tiny guest as a PVC user writes it: direct kernel boot, a qcow2 on virtio-scsi, a logged serial console. */
  const domainXml = (disk: string, memoryMiB: number, withUuid?: string) => `<domain type='qemu'>
  <name>${VM}</name>${withUuid ? `\n  <uuid>${withUuid}</uuid>` : ""}
  <description>PVC walk-through</description>
  <memory unit='MiB'>${memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${kernel.path}</kernel>
    <initrd>${kernel.initrd_path}</initrd>
    <cmdline>${GUEST.cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <serial type='pty'><log file='${logFile}' append='on'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>`;
  const xmlFile = (name: string, xml: string) => {
    const f = join(dir, name);
    writeFileSync(f, xml);
    return f;
  };
  const volume = async (name: string) =>
    (
      await core.hv.call("volume.create", {
        pool: POOL,
        xml: buildVolumeXml({ name, capacityBytes: 1024 * MiB, format: "qcow2" }),
      })
    ).path;
  const volumes = async () => (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);

  beforeAll(async () => {
    buildGuest();
    const toml = `[network]\novs_datapath = "netdev"\n[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n[pvc]\nlisten = "127.0.0.1:1"\nshutdown_timeout_s = ${SHUTDOWN_S}\n`;
    core = await systemCore(POOL, toml);
    const img = await apiClient(core).post("/v1/images?wait=true", {
      name: IMAGE,
      kind: "kernel",
      kernel: { path: GUEST.kernel },
      initrd: { path: GUEST.initrd },
    });
    if (img.status !== 200) throw new Error(`image: ${JSON.stringify(img.body)}`);
    kernel = img.body.result;
    logFile = join(core.config.data_dir, "console", `${VM}.log`);
    const plan = listenerPlan(core.config).find((l) => l.fronts.some((f) => f.front === "pvc"));
    const app = createApp(core, plan);
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
    base = `http://127.0.0.1:${server.port}`;
  }, 600_000);

  afterAll(async () => {
    server?.stop(true);
    if (!core) return;
    const api = apiClient(core);
    if ((await api.get(`/v1/vms/${VM}`)).status === 200) await api.delete(`/v1/vms/${VM}?wait=true`);
    for (const v of [DISK, DISK2])
      await core.hv.call("volume.delete", { pool: POOL, volume: v }).catch(() => undefined);
    await api.delete(`/v1/images/${IMAGE}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("define from XML (curl --data-urlencode xml@file) and start: the guest boots", async () => {
    const disk = await volume(DISK);
    const file = xmlFile("define.xml", domainXml(disk, 256));
    const r = await curl(`/api/v1/vm/${VM}/define`, "-X", "POST", "--data-urlencode", `xml@${file}`);
    expect(r.status).toBe(200);
    uuid = (/UUID '([0-9a-f-]{36})'/.exec(r.body.message) as RegExpExecArray)[1] as string;
    expect(r.body.message).toBe(`Added new VM with Name '${VM}' and UUID '${uuid}' to database.`);
    expect(await curl(`/api/v1/vm/${VM}/start`, "-X", "POST")).toMatchObject({
      status: 200,
      body: { message: `Starting VM '${VM}'.` },
    });
    const vm = (await curl(`/api/v1/vm/${uuid}`)).body[0];
    expect(vm).toMatchObject({
      name: VM,
      uuid,
      state: "start",
      memory: 256,
      vcpu: "1",
      type: "hvm",
      arch: "x86_64",
      console: "pty",
      features: ["acpi"],
      disks: [{ type: "file", name: disk, dev: "sda", bus: "scsi" }],
    });
    expect(vm.machine).toStartWith("pc");
    expect(vm.emulator).toContain("qemu-system-x86_64");
    const node = (await curl("/api/v1/node")).body[0];
    expect(node.running_domains).toContain(uuid);
    expect(Number(node.vcpu.allocated)).toBeGreaterThanOrEqual(1);
    await waitFor(() => blockLines() >= 1, 90_000, "BERTH-GUEST: block sda in the console log");
  }, 150_000);

  test("modify with flag_restart (raw XML body): the guest really restarts on the new definition", async () => {
    const before = await domainId();
    const disk = (await curl(`/api/v1/vm/${VM}`)).body[0].disks[0].name as string;
    const file = xmlFile("modify.xml", domainXml(disk, 320, uuid));
    const r = await curl(
      `/api/v1/vm/${VM}/modify?flag_restart`,
      "-X",
      "POST",
      "-H",
      "content-type: application/xml",
      "--data-binary",
      `@${file}`,
    );
    expect(r).toMatchObject({ status: 200, body: { message: "" } });
    expect(await domainId()).not.toBe(before);
    expect((await core.hv.call("domain.info", { name: VM })).maxMemoryKiB).toBe(320 * 1024);
    expect((await curl(`/api/v1/vm/${VM}`)).body[0]).toMatchObject({ memory: 320, state: "start" });
    await waitFor(() => blockLines() >= 2, 90_000, "the guest's second boot on the new definition");
  }, 150_000);

  test("restart: shutdown (ACPI, then hard after the timeout), then start: a third boot", async () => {
    const before = await domainId();
    expect(await curl(`/api/v1/vm/${VM}/restart`, "-X", "POST")).toMatchObject({
      status: 200,
      body: { message: `Restarting VM '${VM}'.` },
    });
    await waitFor(
      async () =>
        (await state()) === "start" &&
        (await domainId()) !== before &&
        core.ops.list({ status: "running", limit: 10 }).length === 0,
      30_000,
      "the VM running again on a new domain id, its start finished",
    );
    await waitFor(() => blockLines() >= 3, 90_000, "the guest's third boot");
  }, 150_000);

  test("shutdown: answered at once; the guest ignores ACPI, so it is stopped hard after [pvc] shutdown_timeout_s", async () => {
    // The restart before ends with a start of its own in the berth under test: while that still holds the
    // VM, PVC answers busy (510); the shutdown is asked again until the VM is free.
    let t0 = performance.now();
    let r = await curl(`/api/v1/vm/${VM}/shutdown`, "-X", "POST");
    for (let i = 0; i < 150 && r.status === 510 && /is busy/.test(String(r.body?.message)); i++) {
      await Bun.sleep(200);
      t0 = performance.now();
      r = await curl(`/api/v1/vm/${VM}/shutdown`, "-X", "POST");
    }
    expect(r).toMatchObject({
      status: 200,
      body: { message: `Shutting down VM '${VM}'.` },
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    await waitFor(async () => (await state()) === "stop", 30_000, "the VM stopped");
    const took = (performance.now() - t0) / 1000;
    // The tiny guest's busybox init has no ACPI handler: only the hard stop ends it, after the timeout.
    expect(took).toBeGreaterThanOrEqual(SHUTDOWN_S);
    console.log(`pvc shutdown: stopped after ${took.toFixed(1)} s (timeout ${SHUTDOWN_S} s)`);
  }, 60_000);

  test("dump: the libvirt XML as text", async () => {
    const r = await curl(`/api/v1/vm/${VM}/dump`);
    expect(r.status).toBe(200);
    expect(r.type).toContain("xml");
    expect(r.text).toContain(`<name>${VM}</name>`);
    expect(r.text).toContain(`<kernel>${kernel.path}</kernel>`);
  }, 30_000);

  test("undefine keeps the volume; a new definition on a second disk, then remove deletes its disk", async () => {
    const disk = (await curl(`/api/v1/vm/${VM}`)).body[0].disks[0].name as string;
    expect(await curl(`/api/v1/vm/${VM}/undefine`, "-X", "POST")).toMatchObject({
      status: 200,
      body: { message: `Undefined VM '${VM}' from the cluster.` },
    });
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(VM);
    expect(await curl(`/api/v1/vm/${VM}`)).toMatchObject({ status: 404, body: { message: "VM not found." } });
    expect(existsSync(disk)).toBe(true);
    expect(await volumes()).toContain(DISK);

    const disk2 = await volume(DISK2);
    const file = xmlFile("again.xml", domainXml(disk2, 256));
    expect((await curl(`/api/v1/vm/x/define`, "-X", "POST", "--data-urlencode", `xml@${file}`)).status).toBe(
      200,
    );
    expect((await curl(`/api/v1/vm/${VM}/start`, "-X", "POST")).status).toBe(200);
    expect(await curl(`/api/v1/vm/${VM}/remove`, "-X", "POST")).toMatchObject({
      status: 200,
      body: { message: `Removed VM '${VM}' and disks from the cluster.` },
    });
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(VM);
    const left = await volumes();
    expect({ kept: left.includes(DISK), removed: !left.includes(DISK2) }).toEqual({
      kept: true,
      removed: true,
    });
  }, 60_000);
});
