// The staging agent's /hosts on the test driver: every route and status, bad input, ns vs ns.example.com.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { failingAt } from "../../support/fault-injector.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const NET = "stgh_example_com_vlan_10";
beforeAll(async () => {
  core = await testCore(testConfig('[network]\nmanage_bridges = false\n[storage]\npool = "stg-hosts"'));
  api = apiClient(core);
  expect((await api.post(`/networks/${NET}`, { bridge: "stgbr0", vlan: 10 })).status).toBe(201);
});
afterAll(() => core.close());

const body = { memory: 512, disks: [8], networks: [NET] };
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name);
const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
/** A raw body with the given content type (or none), as a client of the agent might send it. */
async function send(method: string, path: string, raw: string | undefined, type?: string): Promise<Reply> {
  const headers: Record<string, string> = type ? { "content-type": type } : {};
  const res = await api.app.handle(new Request(`http://localhost${path}`, { method, body: raw, headers }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}
/** The agent's error shape: one "error" string, nothing else. */
const expectError = (r: Reply, status: number, message?: RegExp) => {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(typeof r.body.error).toBe("string");
  if (message) expect(r.body.error).toMatch(message);
};

describe("POST /hosts/:host", () => {
  test("the document's example (without install) is 201 with id, name and state", async () => {
    const r = await api.post("/hosts/stgh-a.example.com", body);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.any(String), name: "stgh-a.example.com", state: "running" });
    // berth and libvirt know it by the same name; the native API shows the same VM.
    expect(await domains()).toContain("stgh-a.example.com");
    const vm = (await api.get("/v1/vms/stgh-a.example.com")).body;
    expect(vm).toMatchObject({
      id: r.body.id,
      vcpus: 1,
      memory_mib: 512,
      description: "staging host stgh-a.example.com",
    });
    expect(vm.nics).toEqual([expect.objectContaining({ network: NET, vlan: 10 })]);
  });

  test("the first disk is sda and the others follow on the one virtio-scsi controller, sizes in GB", async () => {
    const r = await api.post("/hosts/stgh-disks", { memory: 256, disks: [3, 2, 1], networks: [] });
    expect(r.status).toBe(201);
    const vm = (await api.get("/v1/vms/stgh-disks")).body;
    expect(vm.disks.map((d: { target: string; size: number }) => [d.target, d.size])).toEqual([
      ["sda", 3 * 2 ** 30],
      ["sdb", 2 * 2 ** 30],
      ["sdc", 2 ** 30],
    ]);
    const xml = await core.hv.call("domain.xml", { name: "stgh-disks" });
    expect(xml).toContain("<controller type='scsi' index='0' model='virtio-scsi'/>");
    expect(xml).toContain("<target dev='sda' bus='scsi'/>");
    expect(xml).toContain("<target dev='sdc' bus='scsi'/>");
    expect(xml).toContain("<memory unit='KiB'>262144</memory>");
  });

  test("a trailing slash (as in the document's example) and a body without a JSON content type work", async () => {
    const r = await send(
      "POST",
      "/hosts/stgh-slash.example.com/",
      JSON.stringify(body),
      "application/x-www-form-urlencoded",
    );
    expect(r.status).toBe(201);
    expect(r.body.name).toBe("stgh-slash.example.com");
    const bare = await send("POST", "/hosts/stgh-bare", JSON.stringify({ ...body, networks: [] }));
    expect(bare.status).toBe(201);
  });

  test("409 when the host exists, or when libvirt has a domain of that name berth does not manage", async () => {
    expectError(await api.post("/hosts/stgh-a.example.com", body), 409, /stgh-a\.example\.com/);
    expectError(await api.post("/hosts/test", body), 409, /already exists/);
  });

  test("malformed JSON, missing or wrongly typed fields are 400 and create nothing", async () => {
    const before = { doms: (await domains()).length, vols: await volumes() };
    const raw: [string | undefined, RegExp][] = [
      ["{bad", /not valid JSON/],
      ["", /not valid JSON/],
      [undefined, /not valid JSON/],
      ['{"memory":512,', /not valid JSON/],
    ];
    for (const [text, msg] of raw)
      expectError(await send("POST", "/hosts/stgh-bad", text, "application/json"), 400, msg);
    const cases: [unknown, RegExp][] = [
      [{ disks: [8], networks: [] }, /memory/],
      [{ memory: 512, networks: [] }, /disks/],
      [{ memory: 512, disks: [8] }, /networks/],
      [{ ...body, memory: "lots" }, /memory/],
      [{ ...body, memory: 512.5 }, /memory/],
      [{ ...body, memory: 8 }, /memory/],
      [{ ...body, disks: 8 }, /disks/],
      [{ ...body, disks: [] }, /disks/],
      [{ ...body, disks: ["big"] }, /disks/],
      [{ ...body, disks: [0] }, /disks/],
      [{ ...body, networks: NET }, /networks/],
      [{ ...body, networks: [10] }, /networks/],
      [{ ...body, install: "yes" }, /install/],
      [{ ...body, console: true }, /console/],
      [[body], /memory/],
      [null, /memory/],
      [{ ...body, networks: ["stgh_no_such_net"] }, /network stgh_no_such_net does not exist/],
      [{ ...body, networks: ["no such net"] }, /network no such net does not exist/],
      [{ ...body, location: "http://x/" }, /only with install/],
      [{ ...body, install: false, cmdline: "quiet" }, /only with install/],
      [{ ...body, install: true }, /needs location/],
    ];
    for (const [b, msg] of cases) expectError(await api.post("/hosts/stgh-bad", b), 400, msg);
    expectError(await api.post("/hosts/stgh%20bad", body), 400, /host name "stgh bad" is invalid/);
    expectError(await api.post(`/hosts/${"a.".repeat(123)}b`, body), 400, /at most 245 characters/);
    expectError(await api.get("/hosts/stgh-bad"), 404);
    expect({ doms: (await domains()).length, vols: await volumes() }).toEqual(before);
  });
});

test("a create whose operation fails answers with its error in the agent's shape and leaves nothing", async () => {
  const before = { doms: await domains(), vols: await volumes() };
  // Fault injector: libvirt refuses the second disk, so the operation fails and undoes the first.
  const failing = failingAt(core, "volume.createSpec", 2, "Not enough free space in pool");
  const r = await apiClient(failing).post("/hosts/stgh-huge.example.com", {
    memory: 128,
    disks: [1, 1],
    networks: [],
  });
  expectError(r, 502, /Not enough free space/);
  expectError(await api.get("/hosts/stgh-huge.example.com"), 404);
  expect({ doms: await domains(), vols: await volumes() }).toEqual(before);
});

describe("GET /hosts and /hosts/:host", () => {
  test("lists every host under its staging name, berth's own VMs under theirs", async () => {
    expect(
      (await api.post("/v1/vms?wait=true", { name: "stgh-native", cpus: 1, memory_mib: 64, root_disk_gb: 1 }))
        .status,
    ).toBe(200);
    const r = await api.get("/hosts");
    expect(r.status).toBe(200);
    const byName = new Map(r.body.map((h: { name: string }) => [h.name, h]));
    expect(byName.get("stgh-a.example.com")).toEqual({
      id: expect.any(String),
      name: "stgh-a.example.com",
      state: "running",
    });
    expect(byName.get("stgh-native")).toMatchObject({ state: "running" });
    for (const h of r.body) expect(Object.keys(h).sort()).toEqual(["id", "name", "state"]);
  });

  test("200 with the host; 404 for an unknown or impossible name", async () => {
    const r = await api.get("/hosts/stgh-a.example.com");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.any(String), name: "stgh-a.example.com", state: "running" });
    expectError(
      await api.get("/hosts/stgh-nope.example.com"),
      404,
      /host stgh-nope\.example\.com does not exist/,
    );
    expectError(await api.get("/hosts/stgh-a"), 404);
    expectError(await api.get("/hosts/a%20b"), 404);
  });

  test("states read as virsh says them", async () => {
    expect((await api.post("/v1/vms/stgh-native/stop?wait=true")).status).toBe(200);
    expect((await api.get("/hosts/stgh-native")).body.state).toBe("shut off");
    expect((await api.post("/v1/vms/stgh-disks/suspend?wait=true")).status).toBe(200);
    expect((await api.get("/hosts/stgh-disks")).body.state).toBe("paused");
  });
});

describe("PUT /hosts/:host/start", () => {
  test("204 starts a stopped host; 204 again when it already runs", async () => {
    const r = await api.put("/hosts/stgh-native/start");
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expect((await api.get("/hosts/stgh-native")).body.state).toBe("running");
    expect((await api.put("/hosts/stgh-native/start")).status).toBe(204);
  });

  test("404 for an unknown host; 409 for a paused one", async () => {
    expectError(await api.put("/hosts/stgh-nope.example.com/start"), 404, /does not exist/);
    expectError(await api.put("/hosts/stgh-disks/start"), 409, /paused/);
  });
});

describe("DELETE /hosts/:host", () => {
  test("ns and ns.example.com coexist; deleting one never touches the other's domain or disks", async () => {
    const mk = (h: string, disks: number[]) => api.post(`/hosts/${h}`, { memory: 128, disks, networks: [] });
    const ns = await mk("ns", [1, 1]);
    const fqdn = await mk("ns.example.com", [1, 2]);
    expect([ns.status, fqdn.status]).toEqual([201, 201]);
    expect(ns.body.id).not.toBe(fqdn.body.id);
    const own = (id: string) => [`vm-${id}-0.qcow2`, `vm-${id}-1.qcow2`];
    const vols = await volumes();
    for (const v of [...own(ns.body.id), ...own(fqdn.body.id)]) expect(vols).toContain(v);

    const del = await api.delete("/hosts/ns");
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();
    expectError(await api.get("/hosts/ns"), 404);
    expect((await api.get("/hosts/ns.example.com")).body).toEqual({
      id: fqdn.body.id,
      name: "ns.example.com",
      state: "running",
    });
    const after = await volumes();
    for (const v of own(ns.body.id)) expect(after).not.toContain(v);
    for (const v of own(fqdn.body.id)) expect(after).toContain(v);
    expect(await domains()).toContain("ns.example.com");
    expect(await domains()).not.toContain("ns");

    expect((await api.delete("/hosts/ns.example.com")).status).toBe(204);
    for (const v of own(fqdn.body.id)) expect(await volumes()).not.toContain(v);
    expect(await domains()).not.toContain("ns.example.com");
  });

  test("stops a running host first; 404 for an unknown one, and the second time", async () => {
    expect((await api.delete("/hosts/stgh-slash.example.com")).status).toBe(204);
    expectError(await api.delete("/hosts/stgh-slash.example.com"), 404, /does not exist/);
    expectError(await api.delete("/hosts/a%20b"), 404);
  });

  test("409 while another action on the host runs; nothing is removed or started", async () => {
    expect((await api.post("/v1/vms/stgh-bare/stop?wait=true")).status).toBe(200);
    // An operation holding the host's lock until the test lets it go.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const op = core.ops.start("test.hold", "vm/stgh-bare", () => held, { lock: true });
    try {
      expectError(await api.delete("/hosts/stgh-bare"), 409, /busy/);
      expectError(await api.put("/hosts/stgh-bare/start"), 409, /busy/);
    } finally {
      release();
      await core.ops.wait(op.id, 5);
    }
    expect((await api.get("/hosts/stgh-bare")).body.state).toBe("shut off");
  });
});

test("the native API keeps its own error shape", async () => {
  const r = await api.get("/v1/vms/stgh-nope");
  expect(r.status).toBe(404);
  expect(r.body).toEqual({ error: { code: "not_found", message: "vm stgh-nope does not exist" } });
});
