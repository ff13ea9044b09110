// /v1/vms/{name}/snapshots on the test driver: take, list, show, revert, delete, and every refusal.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
let isoDir: string;
const VM = "usn-a";
const GiB = 2 ** 30;

const snaps = (vm = VM) => api.get(`/v1/vms/${vm}/snapshots`);
const take = (body?: unknown, vm = VM) => api.post(`/v1/vms/${vm}/snapshots?wait=true`, body);
const inLibvirt = (vm = VM) => core.hv.call("snapshot.list", { name: vm });
const ok = async (p: Promise<{ status: number; body: unknown }>) => {
  const r = await p;
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
};
const newVm = (name: string, extra: Record<string, unknown> = {}) =>
  ok(api.post("/v1/vms?wait=true", { name, cpus: 1, memory_mib: 64, root_disk_gb: 1, ...extra }));

beforeAll(async () => {
  // The ISO is imported from a fresh directory under /tmp.
  core = await testCore(
    testConfig(
      `[storage]\npool = "usn-pool"\n[network]\nmanage_bridges = false\n[images]\nimport_dirs = ["/tmp"]`,
    ),
  );
  api = apiClient(core);
  await newVm(VM);
  // A minimal ISO 9660 image (primary volume descriptor at 32 KiB) for the cdrom case.
  isoDir = mkdtempSync("/tmp/berth-usn-");
  const iso = new Uint8Array(64 * 1024);
  iso.set([1, ...new TextEncoder().encode("CD001"), 1], 32768);
  writeFileSync(join(isoDir, "cd.iso"), iso);
});
afterAll(async () => {
  await core.close();
  rmSync(isoDir, { recursive: true, force: true });
});

describe("take", () => {
  test("a running VM's snapshot holds its memory and the VM's config at that time", async () => {
    const r = await take({ name: "first", description: "before <things>" });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe("vm.snapshot.create");
    expect(r.body.target).toBe(`vm/${VM}`);
    expect(r.body.result).toMatchObject({
      name: "first",
      description: "before <things>",
      state: "running",
      memory_state: true,
      vcpus: 1,
      memory_mib: 64,
      disks: [{ name: "root", target: "sda", size: GiB }],
      networks: [],
    });
    expect(await inLibvirt()).toContain("first");
    const xml = await core.hv.call("snapshot.xml", { name: VM, snapshot: "first" });
    expect(xml).toContain("<description>before &lt;things&gt;</description>");
  });

  test("without a name (or a body) one is generated; without wait it is a 202 operation", async () => {
    const r = await api.post(`/v1/vms/${VM}/snapshots`);
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    const done = await api.get(`/v1/operations/${r.body.id}/wait?timeout=10`);
    expect(done.body.status).toBe("succeeded");
    expect(done.body.result.name).toMatch(/^snap-[a-z]+-[0-9a-f]{6}$/);
    const named = await take({ description: "no name" });
    expect(named.body.result.name).toMatch(/^snap-/);
    expect(named.body.result.name).not.toBe(done.body.result.name);
  });

  test("the list is newest first, and each snapshot shows its details", async () => {
    const list = (await snaps()).body;
    expect(list).toHaveLength(3);
    expect(list[2].name).toBe("first");
    expect(list[0].created_at >= list[1].created_at).toBe(true);
    expect(list[1].created_at >= list[2].created_at).toBe(true);
    const one = await api.get(`/v1/vms/${VM}/snapshots/first`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list[2]);
  });

  test("a stopped VM's snapshot has no memory state", async () => {
    await ok(api.post(`/v1/vms/${VM}/stop?wait=true`));
    const r = await take({ name: "cold" });
    expect(r.body.result).toMatchObject({ name: "cold", state: "shutoff", memory_state: false });
    await ok(api.post(`/v1/vms/${VM}/start?wait=true`));
  });

  test("a taken name is 409; bad names, unknown fields and long descriptions are 400", async () => {
    const dup = await take({ name: "first" });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toEqual({ code: "conflict", message: `vm ${VM} already has a snapshot first` });
    // A snapshot libvirt has that berth did not take (made with virsh): its name is taken too.
    await core.hv.call("snapshot.create", {
      name: VM,
      xml: "<domainsnapshot><name>outside</name></domainsnapshot>",
    });
    const outside = await take({ name: "outside" });
    expect(outside.status).toBe(409);
    expect(outside.body.error.message).toBe(
      `vm ${VM} already has a snapshot outside in libvirt (not taken by berth)`,
    );
    await core.hv.call("snapshot.delete", { name: VM, snapshot: "outside" });
    for (const body of [
      { name: "Bad_Name" },
      { name: "-x" },
      { name: "a".repeat(64) },
      { name: "ok", memory: true },
      { description: "d".repeat(4097) },
      { name: 5 },
    ]) {
      const r = await take(body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.error.code).toBe("invalid_request");
    }
    const bad = await api.raw("POST", `/v1/vms/${VM}/snapshots`, "{nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_json");
    expect((await snaps()).body).toHaveLength(4);
  });

  test("unknown VMs and snapshots are 404", async () => {
    expect((await snaps("usn-nope")).status).toBe(404);
    expect((await take({ name: "x" }, "usn-nope")).status).toBe(404);
    const missing = await api.get(`/v1/vms/${VM}/snapshots/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(`vm ${VM} has no snapshot nope`);
    expect((await api.get("/v1/vms/usn-nope/snapshots/first")).status).toBe(404);
    expect((await api.post(`/v1/vms/${VM}/snapshots/nope/revert`)).status).toBe(404);
    expect((await api.delete(`/v1/vms/${VM}/snapshots/nope`)).status).toBe(404);
    expect((await api.get(`/v1/vms/${VM}/snapshots/Bad_Name`)).status).toBe(400);
  });

  test("a second action while one runs is 409 naming the running operation", async () => {
    const first = await api.post(`/v1/vms/${VM}/snapshots`, { name: "busy-1" });
    expect(first.status).toBe(202);
    const second = await api.post(`/v1/vms/${VM}/snapshots`, { name: "busy-2" });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(first.body.id);
    await api.get(`/v1/operations/${first.body.id}/wait?timeout=10`);
    await ok(api.delete(`/v1/vms/${VM}/snapshots/busy-1?wait=true`));
  });
});

describe("disks", () => {
  test("a cdrom is left out of the snapshot; a raw disk makes the VM refuse one (409)", async () => {
    await ok(
      api.post("/v1/images?wait=true", { name: "usn-iso", kind: "iso", path: join(isoDir, "cd.iso") }),
    );
    await newVm("usn-cd", { start: false, disks: [{ name: "cd", image: "usn-iso", media: "cdrom" }] });
    const r = await take({ name: "with-cd" }, "usn-cd");
    expect(r.status).toBe(200);
    expect(r.body.result.disks.map((d: { target: string }) => d.target)).toEqual(["sda", "sdb"]);
    const xml = await core.hv.call("snapshot.xml", { name: "usn-cd", snapshot: "with-cd" });
    expect(xml).toContain("<disk name='sdb' snapshot='no'/>");

    await newVm("usn-raw", { start: false });
    // berth only makes qcow2 disks; an adopted domain can bring a raw one.
    core.db
      .query("UPDATE vm_disks SET format = 'raw' WHERE vm_id = (SELECT id FROM vms WHERE name = ?)")
      .run("usn-raw");
    const raw = await take({ name: "nope" }, "usn-raw");
    expect(raw.status).toBe(409);
    expect(raw.body.error.message).toBe(
      "vm usn-raw cannot be snapshotted: disk root (sda) is raw, and libvirt keeps internal snapshots only in qcow2 disks",
    );
    expect(await inLibvirt("usn-raw")).toEqual([]);
  });
});

describe("revert", () => {
  test("revert brings back the running VM of that time, and its vcpus", async () => {
    await ok(api.post(`/v1/vms/${VM}/stop?wait=true`));
    await ok(api.patch(`/v1/vms/${VM}`, { cpus: 2 }));
    expect((await api.get(`/v1/vms/${VM}`)).body).toMatchObject({ status: "stopped", vcpus: 2 });
    const r = await api.post(`/v1/vms/${VM}/snapshots/first/revert?wait=true`);
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe("vm.snapshot.revert");
    expect(r.body.result).toMatchObject({ name: VM, status: "running", state: "running", vcpus: 1 });
    expect((await core.hv.call("domain.info", { name: VM })).vcpus).toBe(1);
    expect((await api.get(`/v1/vms/${VM}`)).body.status).toBe("running");
  });

  test("reverting to a snapshot taken stopped leaves the VM stopped", async () => {
    const r = await api.post(`/v1/vms/${VM}/snapshots/cold/revert?wait=true`);
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ status: "stopped", state: "shutoff" });
  });

  test("after a disk was added since the snapshot, revert is 409 and changes nothing", async () => {
    await ok(api.post(`/v1/vms/${VM}/disks?wait=true`, { name: "extra", size_gb: 1 }));
    const r = await api.post(`/v1/vms/${VM}/snapshots/first/revert?wait=true`);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toBe(
      `cannot revert vm ${VM} to snapshot first: its disks changed since (now root@sda,extra@sdb, then root@sda)`,
    );
    await ok(api.delete(`/v1/vms/${VM}/disks/extra?wait=true`));
  });

  test("a snapshot libvirt lost is a 409 on revert, and delete still removes the record", async () => {
    await ok(take({ name: "lost" }));
    await core.hv.call("snapshot.delete", { name: VM, snapshot: "lost" });
    const r = await api.post(`/v1/vms/${VM}/snapshots/lost/revert?wait=true`);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toBe(`snapshot lost of vm ${VM} is no longer in libvirt; delete it`);
    await ok(api.delete(`/v1/vms/${VM}/snapshots/lost?wait=true`));
    expect((await api.get(`/v1/vms/${VM}/snapshots/lost`)).status).toBe(404);
  });

  test("revert and take are 409 when the domain vanished behind berth's back", async () => {
    await newVm("usn-gone");
    await ok(take({ name: "s" }, "usn-gone"));
    await core.hv.call("domain.destroy", { name: "usn-gone" });
    await core.hv.call("domain.undefine", { name: "usn-gone", flags: 2 });
    const again = await take({ name: "t" }, "usn-gone");
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("has no domain in libvirt");
    expect((await api.post("/v1/vms/usn-gone/snapshots/s/revert")).status).toBe(409);
    await ok(api.delete("/v1/vms/usn-gone/snapshots/s?wait=true"));
    expect((await snaps("usn-gone")).body).toEqual([]);
  });
});

describe("delete", () => {
  test("delete removes the snapshot from libvirt and from the list; twice is 404", async () => {
    const r = await api.delete(`/v1/vms/${VM}/snapshots/cold?wait=true`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: "vm.snapshot.delete", result: { name: "cold" } });
    expect(await inLibvirt()).not.toContain("cold");
    expect((await snaps()).body.map((s: { name: string }) => s.name)).not.toContain("cold");
    expect((await api.delete(`/v1/vms/${VM}/snapshots/cold`)).status).toBe(404);
  });

  test("deleting the VM deletes its snapshots with it", async () => {
    const id = (await api.get(`/v1/vms/${VM}`)).body.id;
    const count = () =>
      (core.db.query("SELECT count(*) AS n FROM vm_snapshots WHERE vm_id = ?").get(id) as { n: number }).n;
    expect(count()).toBeGreaterThan(0);
    await ok(api.delete(`/v1/vms/${VM}?wait=true`));
    expect(count()).toBe(0);
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(VM);
  });
});

test("the snapshot, address and console routes are in the OpenAPI document", async () => {
  const { paths } = (await api.get("/openapi.json")).body;
  expect(Object.keys(paths)).toEqual(
    expect.arrayContaining([
      "/v1/vms/{name}/snapshots",
      "/v1/vms/{name}/snapshots/{snap}",
      "/v1/vms/{name}/snapshots/{snap}/revert",
      "/v1/vms/{name}/addresses",
      "/v1/vms/{name}/console",
    ]),
  );
  expect(Object.keys(paths["/v1/vms/{name}/snapshots/{snap}"]).sort()).toEqual(["delete", "get"]);
  expect(paths["/v1/vms/{name}/console"].get.description).toContain("virtlogd");
});
