// reconcile(core) on the test driver: gone, crashed creates, state sync, orphans reported/adopted/removed.

import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import type { Core } from "../../../src/core/context.ts";
import type { BerthEvent } from "../../../src/core/events.ts";
import { reconcile } from "../../../src/core/reconcile/reconcile.ts";
import { instanceId } from "../../../src/db/host-meta.ts";
import { buildDomainXml, type DiskSpec } from "../../../src/xml/domain.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";
import { testConfig, testCore } from "../../support/core.ts";

// test:///default is shared by every connection in this process: everything here is named rc-*.
const POOL = "default-pool";
const MiB = 1024 * 1024;
let core: Awaited<ReturnType<typeof testCore>>;
let seen: BerthEvent[] = [];

beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "${POOL}"`));
  core.events.subscribe((e) => seen.push(e));
});
afterAll(() => core.close());

const quiet = <T>(p: Promise<T>) => p.catch(() => undefined);

beforeEach(async () => {
  for (const d of await core.hv.call("domain.list", {})) {
    if (!d.name.startsWith("rc-")) continue;
    if (d.state !== "shutoff") await quiet(core.hv.call("domain.destroy", { name: d.name }));
    await quiet(core.hv.call("domain.undefine", { name: d.name, flags: 3 }));
  }
  for (const v of await core.hv.call("volume.list", { pool: POOL })) {
    if (v.name.startsWith("rc-") || v.name.startsWith("vm-rc-")) {
      await core.hv.call("volume.delete", { pool: POOL, volume: v.name });
    }
  }
  core.db.run("DELETE FROM vms");
  core.db.run("DELETE FROM images");
  core.db.run("DELETE FROM networks");
  core.db.run("DELETE FROM operations");
  seen = [];
});

/** The same core with another reconcile.orphans setting. */
const withOrphans = (orphans: "report" | "adopt" | "remove"): Core => ({
  ...core,
  config: { ...core.config, reconcile: { ...core.config.reconcile, orphans } },
});

async function volume(name: string): Promise<string> {
  const v = await core.hv.call("volume.create", {
    pool: POOL,
    xml: buildVolumeXml({ name, capacityBytes: 8 * MiB, format: "qcow2" }),
  });
  return v.path;
}

async function volumes(): Promise<string[]> {
  return (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name).sort();
}

async function domain(
  name: string,
  berthId: string | undefined,
  opts: {
    disks?: DiskSpec[];
    start?: boolean;
    nics?: Parameters<typeof buildDomainXml>[0]["nics"];
    instance?: string;
  } = {},
): Promise<void> {
  await core.hv.call("domain.define", {
    xml: buildDomainXml({
      name,
      type: "qemu",
      vcpus: 2,
      memoryMiB: 128,
      boot: { kind: "disk" },
      disks: opts.disks ?? [],
      nics: opts.nics ?? [],
      ...(berthId ? { berthId } : {}),
      ...(opts.instance ? { berthInstance: opts.instance } : {}),
    }),
  });
  if (opts.start) await core.hv.call("domain.create", { name });
}

async function domainNames(): Promise<string[]> {
  return (await core.hv.call("domain.list", {})).map((d) => d.name).sort();
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function row(
  id: string,
  name: string,
  status: string,
  opts: {
    created?: string;
    updated?: string;
    disks?: { unit: number; volume: string; device?: string }[];
  } = {},
): void {
  const created = opts.created ?? ago(60_000);
  core.db
    .query(
      `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
       VALUES (?, ?, ?, 1, 128, '{"mode":"disk"}', ?, ?)`,
    )
    .run(id, name, status, created, opts.updated ?? created);
  for (const d of opts.disks ?? []) {
    core.db
      .query(
        `INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size)
         VALUES (?, ?, ?, ?, ?, 'qcow2', ?, 0)`,
      )
      .run(id, d.unit, `d${d.unit}`, d.volume, `/${POOL}/${d.volume}`, d.device ?? "disk");
  }
}

const vmRow = (id: string) =>
  core.db.query("SELECT * FROM vms WHERE id = ?").get(id) as Record<string, string | null> | null;
const events = (type: string) => seen.filter((e) => e.type === type);

test("domains without berth metadata are never reported nor touched, whatever the orphans setting", async () => {
  await domain("rc-plain", undefined, { start: true });
  for (const mode of ["report", "adopt", "remove"] as const) {
    const r = await reconcile(withOrphans(mode));
    expect(r.orphans).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.checked.domains).toBe(0);
  }
  expect(await domainNames()).toEqual(expect.arrayContaining(["rc-plain", "test"]));
  const states = await core.hv.call("domain.list", {});
  expect(states.find((d) => d.name === "rc-plain")?.state).toBe("running");
  expect(states.find((d) => d.name === "test")?.state).toBe("running");
  expect(core.db.query("SELECT count(*) AS n FROM vms").get()).toEqual({ n: 0 });
});

test("another berth installation's domains are never orphans, whatever the orphans setting; ours are", async () => {
  await domain("rc-foreign", "rc-id-foreign", { instance: "another-berth" });
  await domain("rc-mine", "rc-id-mine", { instance: instanceId(core.db) });
  for (const orphans of ["report", "adopt", "remove"] as const) {
    const r = await reconcile(
      { ...core, config: { ...core.config, reconcile: { ...core.config.reconcile, orphans } } },
      {
        domains: (n) => n === "rc-foreign",
      },
    );
    expect(r.orphans).toEqual([]);
  }
  expect(await domainNames()).toContain("rc-foreign");
  expect(vmRow("rc-id-foreign")).toBeNull();
  const mine = await reconcile(core, { domains: (n) => n === "rc-mine" });
  expect(mine.orphans).toEqual([{ id: "rc-id-mine", domain: "rc-mine", action: "reported" }]);
});

test("report: an orphan is listed every pass, announced once, and left alone", async () => {
  await domain("rc-orphan", "rc-id-orphan");
  const first = await reconcile(core);
  expect(first.orphans).toEqual([{ id: "rc-id-orphan", domain: "rc-orphan", action: "reported" }]);
  const second = await reconcile(core);
  expect(second.orphans).toEqual(first.orphans);
  expect(events("vm.orphan")).toHaveLength(1);
  expect(events("vm.orphan")[0]).toMatchObject({
    target: "domain/rc-orphan",
    data: { id: "rc-id-orphan", action: "reported" },
  });
  expect(await domainNames()).toContain("rc-orphan");
  expect(vmRow("rc-id-orphan")).toBeNull();
});

test("remove: a running orphan is destroyed and undefined; only its own pool volumes go", async () => {
  const own = await volume("rc-own.qcow2");
  const image = await volume("rc-image.qcow2");
  const shared = await volume("rc-shared.qcow2");
  const iso = await volume("rc-install.iso");
  core.db.run(
    `INSERT INTO images (id, name, kind, format, volume, source, status, created_at)
     VALUES ('img-1', 'rc-img', 'disk', 'qcow2', 'rc-image.qcow2', 'test', 'ready', '2024-01-01T00:00:00Z')`,
  );
  row("rc-other", "rc-other", "stopped", { disks: [{ unit: 0, volume: "rc-shared.qcow2" }] });
  await domain("rc-other", "rc-other");
  await domain("rc-doomed", "rc-id-doomed", {
    start: true,
    disks: [
      { path: own, format: "qcow2" },
      { path: image, format: "qcow2" },
      { path: shared, format: "qcow2" },
      { path: iso, format: "raw", device: "cdrom" },
      { path: "/elsewhere/not-in-pool.img", format: "raw" },
    ],
  });
  const r = await reconcile(withOrphans("remove"));
  expect(r.errors).toEqual([]);
  expect(r.orphans).toEqual([
    { id: "rc-id-doomed", domain: "rc-doomed", action: "removed", details: ["volume rc-own.qcow2"] },
  ]);
  expect(await domainNames()).not.toContain("rc-doomed");
  expect(await domainNames()).toContain("rc-other");
  const left = await volumes();
  expect(left).not.toContain("rc-own.qcow2");
  expect(left).toEqual(expect.arrayContaining(["rc-image.qcow2", "rc-shared.qcow2", "rc-install.iso"]));
  // It ran as a locked operation on the VM's name, visible afterwards.
  const ops = core.ops.list({ target: "vm/rc-doomed" });
  expect(ops.map((o) => [o.kind, o.status])).toEqual([["vm.orphan.remove", "succeeded"]]);
  expect(events("vm.orphan").at(-1)?.data).toMatchObject({ action: "removed", volumes: ["rc-own.qcow2"] });
  expect((await reconcile(withOrphans("remove"))).orphans).toEqual([]);
});

test("adopt: a row is made from the domain's XML, with its pool disks and known networks", async () => {
  const root = await volume("rc-adopt-root.qcow2");
  const data = await volume("rc-adopt-data.qcow2");
  core.db.run(
    `INSERT INTO networks (name, kind, bridge, vlan, created_at) VALUES ('rc-vlan42', 'ovs', 'br-rc', 42, '2024-01-01T00:00:00Z')`,
  );
  await domain("rc-adoptee", "rc-id-adopt", {
    start: true,
    disks: [
      { path: root, format: "qcow2" },
      { path: "/elsewhere/x.img", format: "raw" },
      { path: data, format: "qcow2" },
    ],
    nics: [
      { kind: "network", network: "default", mac: "52:54:00:aa:00:01" },
      { kind: "ovs", bridge: "br-rc", vlan: 42, mac: "52:54:00:aa:00:02" },
      { kind: "ovs", bridge: "br-rc", vlan: 7, mac: "52:54:00:aa:00:03" },
    ],
  });
  const uuid = (await core.hv.call("domain.list", {})).find((d) => d.name === "rc-adoptee")?.uuid;
  const r = await reconcile(withOrphans("adopt"));
  expect(r.errors).toEqual([]);
  expect(r.orphans).toEqual([
    {
      id: "rc-id-adopt",
      domain: "rc-adoptee",
      action: "adopted",
      details: [
        "disk sdb is not a volume of pool default-pool",
        "nic 52:54:00:aa:00:03 is on no berth network",
      ],
    },
  ]);
  expect(vmRow("rc-id-adopt")).toMatchObject({
    name: "rc-adoptee",
    uuid,
    status: "running",
    vcpus: 2,
    memory_mib: 128,
    boot: '{"mode":"disk"}',
    tags: '{"adopted":"true"}',
  });
  expect(vmRow("rc-id-adopt")?.started_at).not.toBeNull();
  const disks = core.db
    .query("SELECT unit, name, volume, device, size FROM vm_disks WHERE vm_id = ? ORDER BY unit")
    .all("rc-id-adopt");
  expect(disks).toEqual([
    { unit: 0, name: "root", volume: "rc-adopt-root.qcow2", device: "disk", size: 8 * MiB },
    { unit: 2, name: "sdc", volume: "rc-adopt-data.qcow2", device: "disk", size: 8 * MiB },
  ]);
  const nics = core.db
    .query("SELECT idx, network, mac FROM vm_nics WHERE vm_id = ? ORDER BY idx")
    .all("rc-id-adopt");
  expect(nics).toEqual([
    { idx: 0, network: "default", mac: "52:54:00:aa:00:01" },
    { idx: 1, network: "rc-vlan42", mac: "52:54:00:aa:00:02" },
  ]);
  expect(events("vm.orphan").at(-1)).toMatchObject({ target: "vm/rc-adoptee", data: { action: "adopted" } });
  // Adopted, it is an ordinary VM from then on.
  const again = await reconcile(withOrphans("adopt"));
  expect(again.orphans).toEqual([]);
  expect(again.synced).toEqual([]);
});

test("adopt: each disk keeps the bus and unit the domain gives it (virtio, scsi, sata, usb)", async () => {
  const paths = [];
  for (const n of ["r", "s", "t", "u"]) paths.push(await volume(`rc-bus-${n}.qcow2`));
  const [root, s, t, u] = paths as [string, string, string, string];
  await domain("rc-buses", "rc-id-buses", {
    disks: [
      { path: root, format: "qcow2", bus: "virtio" },
      { path: s, format: "qcow2", bus: "scsi" },
      { path: t, format: "qcow2", bus: "sata", unit: 7 },
      { path: u, format: "qcow2", bus: "usb" },
    ],
  });
  const r = await reconcile(withOrphans("adopt"));
  expect(r.errors).toEqual([]);
  expect(r.orphans.map((o) => [o.domain, o.action])).toEqual([["rc-buses", "adopted"]]);
  const disks = core.db
    .query("SELECT unit, name, bus FROM vm_disks WHERE vm_id = ? ORDER BY unit")
    .all("rc-id-buses");
  expect(disks).toEqual([
    { unit: 0, name: "root", bus: "virtio" },
    { unit: 1, name: "sdb", bus: "scsi" },
    { unit: 3, name: "sdd", bus: "usb" },
    { unit: 7, name: "sdh", bus: "sata" },
  ]);
});

test("adopt skips a domain whose name is not a valid vm name, or whose name a row already has", async () => {
  await domain("rc-bad..name", "rc-id-bad");
  await domain("rc-taken", "rc-id-taken");
  row("rc-id-someone", "rc-taken", "stopped");
  await domain("rc-taken-2", "rc-id-someone"); // the row's own domain, under another name
  const r = await reconcile(withOrphans("adopt"));
  expect(r.orphans).toEqual([
    { id: "rc-id-bad", domain: "rc-bad..name", action: "skipped", reason: "name is not a valid vm name" },
    { id: "rc-id-taken", domain: "rc-taken", action: "skipped", reason: "a vm with this id or name exists" },
  ]);
  expect(vmRow("rc-id-bad")).toBeNull();
  expect(vmRow("rc-id-taken")).toBeNull();
});

test("a row whose domain vanished is marked gone once, with an event", async () => {
  row("rc-id-gone", "rc-gone", "running");
  row("rc-id-err", "rc-err", "error");
  const r = await reconcile(core);
  expect(r.gone.sort()).toEqual(["rc-err", "rc-gone"]);
  expect(vmRow("rc-id-gone")?.status).toBe("gone");
  expect(vmRow("rc-id-err")?.status).toBe("gone");
  expect(
    events("vm.gone")
      .map((e) => [e.target, e.data.previous])
      .sort(),
  ).toEqual([
    ["vm/rc-err", "error"],
    ["vm/rc-gone", "running"],
  ]);
  const again = await reconcile(core);
  expect(again.gone).toEqual([]);
  expect(events("vm.gone")).toHaveLength(2);
});

test("a row whose domain carries another id is gone; the domain is an orphan", async () => {
  row("rc-id-a", "rc-swap", "stopped");
  await domain("rc-swap", "rc-id-b");
  const r = await reconcile(core);
  expect(r.gone).toEqual(["rc-swap"]);
  expect(r.orphans).toEqual([{ id: "rc-id-b", domain: "rc-swap", action: "reported" }]);
});

test("a row an operation holds is left alone, even if its domain vanished", async () => {
  row("rc-id-busy", "rc-busy", "running");
  const d = Promise.withResolvers<void>();
  const op = core.ops.start("vm.delete", "vm/rc-busy", () => d.promise, { lock: true });
  const r = await reconcile(core);
  expect(r.gone).toEqual([]);
  expect(r.skipped).toEqual([{ target: "vm/rc-busy", reason: `operation ${op.id} is running` }]);
  expect(vmRow("rc-id-busy")?.status).toBe("running");
  d.resolve();
  await core.ops.wait(op.id, 5);
  expect((await reconcile(core)).gone).toEqual(["rc-busy"]);
});

test("status follows libvirt for running, stopped and paused rows, with timestamps", async () => {
  await domain("rc-s1", "rc-id-s1", { start: true });
  await domain("rc-s2", "rc-id-s2");
  await domain("rc-s3", "rc-id-s3", { start: true });
  await core.hv.call("domain.suspend", { name: "rc-s3" });
  await domain("rc-s4", "rc-id-s4", { start: true });
  await domain("rc-s5", "rc-id-s5");
  row("rc-id-s1", "rc-s1", "stopped");
  row("rc-id-s2", "rc-s2", "running");
  row("rc-id-s3", "rc-s3", "running");
  row("rc-id-s4", "rc-s4", "running"); // already right
  row("rc-id-s5", "rc-s5", "error"); // berth's own verdict: not overridden
  const r = await reconcile(core);
  expect(r.errors).toEqual([]);
  expect(r.synced).toEqual([
    { name: "rc-s1", from: "stopped", to: "running" },
    { name: "rc-s2", from: "running", to: "stopped" },
    { name: "rc-s3", from: "running", to: "paused" },
  ]);
  expect(vmRow("rc-id-s1")?.started_at).not.toBeNull();
  expect(vmRow("rc-id-s2")?.stopped_at).not.toBeNull();
  expect(vmRow("rc-id-s3")).toMatchObject({ status: "paused", started_at: null, stopped_at: null });
  expect(vmRow("rc-id-s5")?.status).toBe("error");
  expect(events("vm.synced").map((e) => e.target)).toEqual(["vm/rc-s1", "vm/rc-s2", "vm/rc-s3"]);
  expect((await reconcile(core)).synced).toEqual([]);
});

test("a row changed after libvirt was listed keeps its newer status", async () => {
  await domain("rc-newer", "rc-id-newer");
  row("rc-id-newer", "rc-newer", "running", { updated: new Date(Date.now() + 60_000).toISOString() });
  const r = await reconcile(core);
  expect(r.synced).toEqual([]);
  expect(vmRow("rc-id-newer")?.status).toBe("running");
});

test("a create a crash left behind is cleaned: its domain, its own volumes and its row", async () => {
  const id = "rc-crashed";
  const own = await volume(`vm-${id}-0.qcow2`);
  await volume("rc-borrowed.iso");
  row(id, "rc-crashed", "creating", {
    created: ago(11 * 60_000),
    disks: [
      { unit: 0, volume: `vm-${id}-0.qcow2` },
      { unit: 1, volume: `vm-${id}-1.qcow2` }, // never created: fine
      { unit: 2, volume: "rc-borrowed.iso", device: "cdrom" }, // an image's ISO: not its own
    ],
  });
  await domain("rc-crashed", id, { disks: [{ path: own, format: "qcow2" }] });
  const r = await reconcile(core);
  expect(r.errors).toEqual([]);
  expect(r.cleaned).toEqual(["rc-crashed"]);
  expect(r.orphans).toEqual([]);
  expect(vmRow(id)).toBeNull();
  expect(core.db.query("SELECT count(*) AS n FROM vm_disks WHERE vm_id = ?").get(id)).toEqual({ n: 0 });
  expect(await domainNames()).not.toContain("rc-crashed");
  const left = await volumes();
  expect(left).not.toContain(`vm-${id}-0.qcow2`);
  expect(left).toContain("rc-borrowed.iso");
  expect(events("vm.cleaned")[0]).toMatchObject({
    target: "vm/rc-crashed",
    data: { id, volumes: [`vm-${id}-0.qcow2`, `vm-${id}-1.qcow2`], domain: "rc-crashed" },
  });
  expect(core.ops.list({ target: "vm/rc-crashed" }).map((o) => [o.kind, o.status])).toEqual([
    ["vm.cleanup", "succeeded"],
  ]);
});

test("a recent creating row is left alone unless it predates this process", async () => {
  row("rc-id-young", "rc-young", "creating", { created: ago(1000) });
  const r = await reconcile(core, { bootedAt: Date.now() - 60_000 });
  expect(r.cleaned).toEqual([]);
  expect(r.gone).toEqual([]);
  expect(vmRow("rc-id-young")?.status).toBe("creating");
  // After a restart, nothing of this process can be creating it.
  const after = await reconcile(core, { bootedAt: Date.now() });
  expect(after.cleaned).toEqual(["rc-young"]);
  expect(vmRow("rc-id-young")).toBeNull();
});

test("an old creating row that an operation still works on is left alone", async () => {
  row("rc-id-slow", "rc-slow", "creating", { created: ago(20 * 60_000) });
  const d = Promise.withResolvers<void>();
  const op = core.ops.start("vm.create", "vm/rc-slow", () => d.promise, { lock: true });
  expect((await reconcile(core)).cleaned).toEqual([]);
  // An operation row still running (say, unlocked) also counts.
  d.resolve();
  await core.ops.wait(op.id, 5);
  const d2 = Promise.withResolvers<void>();
  const op2 = core.ops.start("vm.create", "vm/rc-slow", () => d2.promise);
  expect((await reconcile(core)).cleaned).toEqual([]);
  expect(vmRow("rc-id-slow")?.status).toBe("creating");
  d2.resolve();
  await core.ops.wait(op2.id, 5);
  expect((await reconcile(core)).cleaned).toEqual(["rc-slow"]);
});

test("two domains claiming one berth id are both left alone, and so is the row with that id", async () => {
  await domain("rc-dup-1", "rc-id-dup");
  await domain("rc-dup-2", "rc-id-dup");
  await domain("rc-dup-3", "rc-id-dup3");
  await domain("rc-dup-4", "rc-id-dup3");
  row("rc-id-dup3", "rc-dup-3", "running");
  const r = await reconcile(withOrphans("remove"));
  expect(r.skipped).toEqual([
    { target: "domain/rc-dup-1", reason: "berth id rc-id-dup is carried by rc-dup-1, rc-dup-2" },
    { target: "domain/rc-dup-2", reason: "berth id rc-id-dup is carried by rc-dup-1, rc-dup-2" },
    { target: "domain/rc-dup-3", reason: "berth id rc-id-dup3 is carried by rc-dup-3, rc-dup-4" },
    { target: "domain/rc-dup-4", reason: "berth id rc-id-dup3 is carried by rc-dup-3, rc-dup-4" },
  ]);
  expect(r.orphans).toEqual([]);
  expect(r.synced).toEqual([]);
  expect(vmRow("rc-id-dup3")?.status).toBe("running");
  expect(await domainNames()).toEqual(
    expect.arrayContaining(["rc-dup-1", "rc-dup-2", "rc-dup-3", "rc-dup-4"]),
  );
});

test("a pass fails as a whole when libvirt cannot be listed", async () => {
  const down = await testCore(testConfig(`[storage]\npool = "${POOL}"`));
  await down.hv.close();
  await expect(reconcile(down)).rejects.toThrow(/shutting down/);
  down.db.close();
});

test("the domains option limits a pass to the named domains; the others count as absent", async () => {
  await domain("rc-in", "rc-id-in");
  await domain("rc-out", "rc-id-out");
  const r = await reconcile(withOrphans("remove"), { domains: (n) => n === "rc-in" });
  expect(r.orphans.map((o) => o.domain)).toEqual(["rc-in"]);
  expect(await domainNames()).toContain("rc-out");
  expect(await domainNames()).not.toContain("rc-in");
});

/** An operation on `target` that a crash cut short, as the next start records it. */
function interrupted(kind: string, target: string, at: string): void {
  core.db
    .query(
      `INSERT INTO operations (id, kind, target, status, created_at, updated_at, finished_at, error)
       VALUES (?, ?, ?, 'failed', ?, ?, ?, '{"code":"interrupted","message":"berth stopped","status":500}')`,
    )
    .run(crypto.randomUUID(), kind, target, at, at, at);
}

test("a delete a crash cut short is finished: after the domain went, and before", async () => {
  const a = "rc-del-a";
  const b = "rc-del-b";
  await volume(`vm-${a}-0.qcow2`);
  const bVol = await volume(`vm-${b}-0.qcow2`);
  row(a, "rc-del-a", "running", { disks: [{ unit: 0, volume: `vm-${a}-0.qcow2` }] });
  row(b, "rc-del-b", "stopped", { disks: [{ unit: 0, volume: `vm-${b}-0.qcow2` }] });
  await domain("rc-del-b", b, { disks: [{ path: bVol, format: "qcow2" }] });
  interrupted("vm.delete", "vm/rc-del-a", ago(5000));
  interrupted("vm.delete", "vm/rc-del-b", ago(5000));
  const r = await reconcile(core);
  expect(r.errors).toEqual([]);
  expect(r.gone).toEqual([]);
  expect(r.cleaned.sort()).toEqual(["rc-del-a", "rc-del-b"]);
  expect(vmRow(a)).toBeNull();
  expect(vmRow(b)).toBeNull();
  expect(await domainNames()).not.toContain("rc-del-b");
  expect(await volumes()).not.toContain(`vm-${a}-0.qcow2`);
  expect(await volumes()).not.toContain(`vm-${b}-0.qcow2`);
  expect(core.ops.list({ target: "vm/rc-del-a", status: "succeeded" }).map((o) => o.kind)).toEqual([
    "vm.delete",
  ]);
});

test("a gone row whose last operation is an interrupted delete is finished too; other interruptions are not", async () => {
  row("rc-id-was", "rc-was", "gone");
  interrupted("vm.delete", "vm/rc-was", ago(5000));
  row("rc-id-start", "rc-start", "running");
  interrupted("vm.delete", "vm/rc-start", ago(9000));
  interrupted("vm.start", "vm/rc-start", ago(5000)); // a later action: the delete is no longer wanted
  const r = await reconcile(core);
  expect(r.cleaned).toEqual(["rc-was"]);
  expect(r.gone).toEqual(["rc-start"]);
  expect(vmRow("rc-id-was")).toBeNull();
  expect(vmRow("rc-id-start")?.status).toBe("gone");
});
