// /v1/vms on the test driver: create (linked clone, metadata, operations), list filters, PATCH, DELETE, bad input.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BERTH_NS } from "../../../src/xml/domain.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { failingAt } from "../../support/fault-injector.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(testConfig("[network]\nmanage_bridges = false"));
  api = apiClient(core);
});
afterAll(() => core.close());

const small = { cpus: 1, memory_mib: 128, root_disk_gb: 1 };
const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name).sort();

describe("create", () => {
  test("?wait=true creates, defines with berth metadata and starts; the root disk is sda", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "web-1",
      ...small,
      tags: { team: "a" },
      description: "x",
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("succeeded");
    expect(r.body.kind).toBe("vm.create");
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    const vm = (await api.get("/v1/vms/web-1")).body;
    expect(vm).toMatchObject({
      name: "web-1",
      status: "running",
      vcpus: 1,
      memory_mib: 128,
      tags: { team: "a" },
    });
    expect(vm.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(vm.started_at).not.toBeNull();
    expect(vm.disks).toEqual([
      expect.objectContaining({
        name: "root",
        target: "sda",
        device: "disk",
        format: "qcow2",
        size: 2 ** 30,
      }),
    ]);
    expect(vm.disks[0].volume).toBe(`vm-${vm.id}-0.qcow2`);
    const meta = await core.hv.call("domain.getMetadata", { name: "web-1", uri: BERTH_NS });
    expect(meta).toContain(`id="${vm.id}"`);
    const xml = await core.hv.call("domain.xml", { name: "web-1" });
    expect(xml).toContain("virtio-scsi");
    expect(xml).toContain(`dev="sda"`.replaceAll('"', "'"));
  });

  test("without wait: 202, Location, and the operation can be waited on", async () => {
    const r = await api.post("/v1/vms", { name: "web-2", ...small, start: false });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe("running");
    const done = await api.get(`/v1/operations/${r.body.id}/wait?timeout=10`);
    expect(done.body.status).toBe("succeeded");
    expect((await api.get("/v1/vms/web-2")).body.status).toBe("stopped");
  });

  test("a name is generated when omitted", async () => {
    const r = await api.post("/v1/vms?wait=true", { ...small, start: false });
    expect(r.status).toBe(200);
    expect(r.body.target).toMatch(/^vm\/vm-[a-z]+-[0-9a-f]{6}$/);
  });

  test("bad input is a 4xx and creates nothing", async () => {
    const before = {
      vms: (await api.get("/v1/vms")).body.length,
      vols: await volumes(),
      doms: await domains(),
    };
    const cases: [unknown, number, string][] = [
      [{ name: "web-1", ...small }, 409, "already exists"],
      [{ name: "test", ...small }, 409, "berth does not manage"],
      [{ name: "bad..name", ...small }, 400, "name"],
      [{ name: `a${"b".repeat(63)}`, ...small }, 400, "name"],
      [{ name: "-x", ...small }, 400, "name"],
      [{ name: "ok", ...small, colour: "red" }, 400, "colour"],
      [{ name: "ok", cpus: "two", memory_mib: 128 }, 400, "cpus"],
      [{ name: "ok", cpus: 0, memory_mib: 128 }, 400, "cpus"],
      [{ name: "ok", memory_mib: 128 }, 400, "cpus and memory_mib"],
      [{ name: "ok", size: "nope" }, 404, "size nope"],
      [{ name: "ok", profile: "nope" }, 404, "profile nope"],
      [{ name: "ok", ...small, image: "nope" }, 404, "image nope"],
      [{ name: "ok", ...small, networks: ["nope"] }, 404, "network nope"],
      [{ name: "ok", ...small, disks: [{ name: "root", size_gb: 1 }] }, 400, "used twice"],
      [{ name: "ok", ...small, disks: [{ name: "d" }] }, 400, "size_gb or an image"],
      [{ name: "ok", ...small, tags: { k: 5 } }, 400, "tags"],
    ];
    for (const [body, status, message] of cases) {
      const r = await api.post("/v1/vms", body);
      expect({ body, status: r.status }).toEqual({ body, status });
      expect(r.body.error.message).toContain(message);
    }
    expect((await api.raw("POST", "/v1/vms", "{not json")).status).toBe(400);
    expect((await api.get("/v1/vms")).body.length).toBe(before.vms);
    expect(await volumes()).toEqual(before.vols);
    expect(await domains()).toEqual(before.doms);
  });

  test("a create that fails at a later step undoes the earlier ones", async () => {
    const before = { vols: await volumes(), doms: await domains() };
    // Fault injector: libvirt refuses the second volume, so the first one must be deleted again.
    const failing = failingAt(core, "volume.createSpec", 2, "Not enough free space in pool");
    const r = await apiClient(failing).post("/v1/vms?wait=true", {
      name: "too-big",
      ...small,
      disks: [{ name: "data", size_gb: 1 }],
    });
    expect(r.status).toBe(502);
    expect(r.body.error.message).toContain("Not enough free space");
    expect(r.body.error.details.operation).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api.get("/v1/vms/too-big")).status).toBe(404);
    expect(await volumes()).toEqual(before.vols);
    expect(await domains()).toEqual(before.doms);
    // The name is free again.
    expect((await api.post("/v1/vms?wait=true", { name: "too-big", ...small, start: false })).status).toBe(
      200,
    );
  });
});

describe("nics", () => {
  test("each NIC is on a berth network, with a generated MAC and the network's VLAN", async () => {
    expect((await api.post("/v1/networks", { name: "v10", bridge: "br-vms-test", vlan: 10 })).status).toBe(
      201,
    );
    const r = await api.post("/v1/vms?wait=true", {
      name: "nic-1",
      ...small,
      start: false,
      networks: ["v10", "v10"],
    });
    expect(r.status).toBe(200);
    const vm = (await api.get("/v1/vms/nic-1")).body;
    expect(vm.nics).toEqual([
      {
        network: "v10",
        mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/),
        kind: "ovs",
        vlan: 10,
        trunk: null,
      },
      { network: "v10", mac: expect.stringMatching(/^52:54:00/), kind: "ovs", vlan: 10, trunk: null },
    ]);
    expect(vm.nics[0].mac).not.toBe(vm.nics[1].mac);
    const xml = await core.hv.call("domain.xml", { name: "nic-1" });
    expect(xml).toContain(`<mac address='${vm.nics[0].mac}'/>`);
    expect(xml).toContain("<source network='v10'");
    // A network in use cannot go.
    expect((await api.delete("/v1/networks/v10")).status).toBe(409);
    expect((await api.delete("/v1/vms/nic-1?wait=true")).status).toBe(200);
    expect((await api.delete("/v1/networks/v10")).status).toBe(204);
  });
});

describe("read and change", () => {
  test("list filters by status, tag and exact name", async () => {
    const names = (r: { body: { name: string }[] }) => r.body.map((v) => v.name);
    expect(names(await api.get("/v1/vms?state=running"))).toEqual(["web-1"]);
    expect(names(await api.get("/v1/vms?tag=team"))).toEqual(["web-1"]);
    expect(names(await api.get("/v1/vms?tag=team=a"))).toEqual(["web-1"]);
    expect(names(await api.get("/v1/vms?tag=team=b"))).toEqual([]);
    expect(names(await api.get("/v1/vms?name=web"))).toEqual([]); // never a prefix match
    expect(names(await api.get("/v1/vms?name=web-2"))).toEqual(["web-2"]);
    expect((await api.get("/v1/vms?colour=red")).status).toBe(400);
    expect((await api.get("/v1/vms?state=sideways")).status).toBe(400);
    expect((await api.get("/v1/vms")).body.find((v: { name: string }) => v.name === "web-2").state).toBe(
      "shutoff",
    );
    expect((await api.get("/v1/vms/nope")).status).toBe(404);
    expect((await api.get("/v1/vms/bad..name")).status).toBe(400);
  });

  test("PATCH: tags and description anytime; cpus/memory only when stopped", async () => {
    const r = await api.patch("/v1/vms/web-1", { tags: { team: "b", env: "ci" }, description: "hello" });
    expect(r.status).toBe(200);
    expect(r.body.tags).toEqual({ team: "b", env: "ci" });
    expect(r.body.description).toBe("hello");
    const running = await api.patch("/v1/vms/web-1", { cpus: 2 });
    expect(running.status).toBe(409);
    expect(running.body.error.message).toContain("must be stopped");
    const stopped = await api.patch("/v1/vms/web-2", { cpus: 2, memory_mib: 256 });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ vcpus: 2, memory_mib: 256 });
    const info = await core.hv.call("domain.info", { name: "web-2" });
    expect(info.vcpus).toBe(2);
    expect(info.maxMemoryKiB).toBe(256 * 1024);
    expect((await api.patch("/v1/vms/web-2", { uuid: "x" })).status).toBe(400);
    expect((await api.patch("/v1/vms/nope", { description: "x" })).status).toBe(404);
  });
});

describe("delete", () => {
  test("deletes the domain and exactly the VM's own volumes", async () => {
    const vm = (await api.get("/v1/vms/web-2")).body;
    const other = (await api.get("/v1/vms/web-1")).body;
    const r = await api.delete("/v1/vms/web-2?wait=true");
    expect(r.status).toBe(200);
    expect((await api.get("/v1/vms/web-2")).status).toBe(404);
    expect(await domains()).not.toContain("web-2");
    const vols = await volumes();
    expect(vols).not.toContain(vm.disks[0].volume);
    expect(vols).toContain(other.disks[0].volume);
    expect((await api.delete("/v1/vms/web-2")).status).toBe(404);
  });

  test("a running VM is stopped and deleted; a second action while one runs is 409 naming it", async () => {
    await api.post("/v1/vms?wait=true", { name: "busy", ...small });
    const first = await api.delete("/v1/vms/busy");
    expect(first.status).toBe(202);
    const second = await api.post("/v1/vms/busy/stop");
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(first.body.id);
    expect((await api.get(`/v1/operations/${first.body.id}/wait?timeout=10`)).body.status).toBe("succeeded");
    expect(await domains()).not.toContain("busy");
  });
});
