// The staging agent's install/location/cmdline on the test driver: a network install from a loopback tree.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { debianTree, fakeKernel, serveTree } from "../core/install-fixtures.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const NET = "stgi_example_com_vlan_10";
const tree = serveTree(debianTree("/debian/dists/stretch/", fakeKernel(), new Uint8Array(4096).fill(7)));
// The document's example names the installer-amd64 directory, without a trailing slash.
const LOCATION = tree.url("/debian/dists/stretch/main/installer-amd64");

beforeAll(async () => {
  // The install tree is served on loopback.
  core = await testCore(
    testConfig(
      '[network]\nmanage_bridges = false\n[storage]\npool = "stg-install"\n[images]\nallow_private_networks = true',
    ),
  );
  api = apiClient(core);
  expect((await api.post(`/networks/${NET}`, { bridge: "stgbr0", vlan: 10 })).status).toBe(201);
});
afterAll(async () => {
  tree.stop();
  await core.close();
});

const body = { memory: 512, disks: [1], networks: [NET], install: true, location: LOCATION };
const xmlOf = (name: string) => core.hv.call("domain.xml", { name });
const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name).sort();
const expectError = (r: Reply, status: number, message?: RegExp) => {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(["error"]);
  if (message) expect(r.body.error).toMatch(message);
};
async function until(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("install: true", () => {
  test("201 once the installer runs: the tree's kernel and initrd with the cmdline; on power-off it boots from disk", async () => {
    const r = await api.post("/hosts/stgi-a.example.com", {
      ...body,
      cmdline: "auto=true priority=critical",
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.any(String), name: "stgi-a.example.com", state: "running" });
    const dom = "stgi-a.example.com";
    const during = await xmlOf(dom);
    expect(during).toContain(`vm-${r.body.id}-install-kernel</kernel>`);
    expect(during).toContain(`vm-${r.body.id}-install-initrd</initrd>`);
    expect(during).toContain("<cmdline>auto=true priority=critical</cmdline>");
    expect(during).toContain("<target dev='sda' bus='scsi'/>");
    expect(tree.hits).toContain(
      "/debian/dists/stretch/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux",
    );

    // The installer powers the guest off: berth switches it to its disk and boots it.
    await core.hv.call("domain.shutdown", { name: dom });
    await until(async () => !(await xmlOf(dom)).includes("<kernel>"), "the switch to disk boot");
    await until(async () => (await api.get("/hosts/stgi-a.example.com")).body.state === "running", "running");
    expect(await xmlOf(dom)).toContain("<boot dev='hd'/>");
    expect(await volumes()).not.toContain(`vm-${r.body.id}-install-kernel`);
    expect((await api.put("/hosts/stgi-a.example.com/start")).status).toBe(204);
  });

  test("PUT start while the installer runs is 204; DELETE ends the install and removes everything", async () => {
    const r = await api.post("/hosts/stgi-b.example.com", body);
    expect(r.status).toBe(201);
    expect(await volumes()).toContain(`vm-${r.body.id}-install-kernel`);
    expect((await api.put("/hosts/stgi-b.example.com/start")).status).toBe(204);
    const del = await api.delete("/hosts/stgi-b.example.com");
    expect(del.status).toBe(204);
    expect(await domains()).not.toContain("stgi-b.example.com");
    expect((await volumes()).filter((v) => v.includes(r.body.id))).toEqual([]);
    expectError(await api.get("/hosts/stgi-b.example.com"), 404);
  });

  test("a location that is not an install tree, or not http(s), is 400 and creates nothing", async () => {
    const before = { doms: await domains(), vols: await volumes() };
    expectError(
      await api.post("/hosts/stgi-c", { ...body, location: tree.url("/nothing/here") }),
      400,
      /is not an install tree/,
    );
    expectError(await api.post("/hosts/stgi-c", { ...body, location: "ftp://mirror/debian/" }), 400, /http/);
    expectError(await api.post("/hosts/stgi-c", { ...body, location: "not a url" }), 400, /not a URL/);
    expectError(await api.post("/hosts/stgi-c", { ...body, location: "" }), 400, /location/);
    expectError(await api.get("/hosts/stgi-c"), 404);
    expect({ doms: await domains(), vols: await volumes() }).toEqual(before);
  });
});
