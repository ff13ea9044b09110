// Raw libvirt XML on the test driver: POST /v1/vms {xml}, GET and PUT /v1/vms/{name}/xml, every refusal and conflict.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { fromXml } from "../../../src/xml/codec.ts";
import { BERTH_NS } from "../../../src/xml/domain.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
let pool: string;
let dataPath: string;
let extraPath: string;
/** A disk no VM uses: for XML that is refused. */
let freePath: string;
/** One foreign disk per VM: a disk of one VM is refused for another. */
const diskOf: Record<string, string> = {};

beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "xv-pool"\n[network]\nmanage_bridges = false`));
  api = apiClient(core);
  pool = await ensureStoragePool(core);
  const volume = async (name: string) =>
    (
      await core.hv.call("volume.create", {
        pool,
        xml: buildVolumeXml({ name, capacityBytes: 2 ** 30, format: "qcow2" }),
      })
    ).path;
  dataPath = await volume("xv-data.qcow2");
  extraPath = await volume("xv-extra.qcow2");
  diskOf["xv-a"] = dataPath;
  freePath = await volume("xv-free.qcow2");
  for (const vm of ["xv-run", "xv-async", "xv-hijack", "xv-gone", "xv-native", "xv-raw"]) {
    diskOf[vm] = await volume(`${vm}-data.qcow2`);
  }
  expect((await api.post("/v1/networks", { name: "xv-lan", bridge: "br-xv", vlan: 7 })).status).toBe(201);
});
afterAll(() => core.close());

interface DomOpts {
  name: string;
  uuid?: string;
  mib?: number;
  type?: string;
  disk?: string;
  devices?: string;
  extra?: string;
}

/** A user's domain XML as PVC users write it: a file disk on virtio-scsi, a NIC on a network, a logged serial. */
function domXml(o: DomOpts): string {
  const disk = o.disk ?? diskOf[o.name] ?? freePath;
  return `<domain type='${o.type ?? "qemu"}'>
  <name>${o.name}</name>${o.uuid ? `\n  <uuid>${o.uuid}</uuid>` : ""}
  <description>from xml</description>${o.extra ?? ""}
  <memory unit='MiB'>${o.mib ?? 128}</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <interface type='network'><source network='xv-lan'/><model type='virtio'/></interface>
    <serial type='pty'><log file='${core.config.data_dir}/console/${o.name}.log'/></serial>
    ${o.devices ?? ""}
  </devices>
</domain>`;
}

const define = (body: Record<string, unknown>) => api.post("/v1/vms?wait=true", body);
const putXml = (name: string, body: Record<string, unknown>) =>
  api.put(`/v1/vms/${name}/xml?wait=true`, body);
const metaId = async (name: string) => {
  const m = await core.hv.call("domain.getMetadata", { name, uri: BERTH_NS });
  return m === null ? null : ((fromXml(m).vm as Record<string, string>)["@id"] ?? null);
};
const domains = async () => (await core.hv.call("domain.list", {})).map((d) => d.name).sort();
const rows = async () => ((await api.get("/v1/vms")).body as { name: string }[]).map((v) => v.name);
/** The domain's run id (changes with every start): tells a restart from none. */
const runId = async (name: string) =>
  (fromXml(await core.hv.call("domain.xml", { name })).domain as Record<string, string>)["@id"];
async function getXml(path: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await api.app.handle(new Request(`http://localhost${path}`));
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}
function expectError(r: Reply, status: number, code: string, message?: RegExp): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  if (message) expect(r.body.error.message).toMatch(message);
}

describe("POST /v1/vms with xml", () => {
  test("defines the VM from the XML, adds berth's metadata, records it, and does not start it by default", async () => {
    const r = await define({ xml: domXml({ name: "xv-a" }), tags: { src: "pvc" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: "vm.create", status: "succeeded", target: "vm/xv-a" });
    const vm = (await api.get("/v1/vms/xv-a")).body;
    expect(vm).toMatchObject({
      name: "xv-a",
      status: "stopped",
      state: "shutoff",
      vcpus: 2,
      memory_mib: 128,
      profile: null,
      image: null,
      boot: { mode: "xml" },
      description: "from xml",
      tags: { src: "pvc" },
    });
    expect(vm.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(vm.disks).toEqual([
      {
        name: "sda",
        target: "sda",
        bus: "scsi",
        device: "disk",
        format: "qcow2",
        size: 2 ** 30,
        volume: "xv-data.qcow2",
        path: dataPath,
        image: null,
      },
    ]);
    expect(vm.nics).toEqual([
      {
        network: "xv-lan",
        mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/),
        kind: "ovs",
        vlan: 7,
        trunk: null,
      },
    ]);
    expect(await metaId("xv-a")).toBe(vm.id);
    expect((await core.hv.call("domain.info", { name: "xv-a" })).state).toBe("shutoff");
  });

  test("start: true starts it", async () => {
    const r = await define({
      xml: domXml({ name: "xv-run" }),
      start: true,
      description: "mine",
    });
    expect(r.status).toBe(200);
    expect((await api.get("/v1/vms/xv-run")).body).toMatchObject({ status: "running", description: "mine" });
    expect((await core.hv.call("domain.info", { name: "xv-run" })).state).toBe("running");
  });

  test("without wait: 202 with the operation and its Location", async () => {
    const r = await api.post("/v1/vms", { xml: domXml({ name: "xv-async" }) });
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect((await api.get(`/v1/operations/${r.body.id}/wait?timeout=10`)).body.status).toBe("succeeded");
  });

  test("berth metadata in the user's XML with another VM's id does not hijack that VM", async () => {
    const victim = (await api.get("/v1/vms/xv-a")).body.id;
    const extra = `\n  <metadata><b:vm xmlns:b="${BERTH_NS}" id="${victim}"/></metadata>`;
    const r = await define({ xml: domXml({ name: "xv-hijack", extra }) });
    expect(r.status).toBe(200);
    const own = (await api.get("/v1/vms/xv-hijack")).body.id;
    expect(own).not.toBe(victim);
    expect(await metaId("xv-hijack")).toBe(own);
    expect(await metaId("xv-a")).toBe(victim);
  });

  test("bad XML, names and policy violations are 400; taken names and UUIDs are 409; nothing is left behind", async () => {
    const before = { rows: await rows(), doms: await domains() };
    const testUuid = (await core.hv.call("domain.info", { name: "test" })).uuid;
    const aUuid = (await api.get("/v1/vms/xv-a")).body.uuid as string;
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ xml: "not xml at all" }, 400, "invalid_xml", /root element must be <domain>/],
      [{ xml: "<network><name>xv-n</name></network>" }, 400, "invalid_xml", /got <network>/],
      [{ xml: "<domain type='qemu'><memory>1</memory></domain>" }, 400, "invalid_xml", /no <name>/],
      [
        { xml: `<!DOCTYPE domain [<!ENTITY n "xv-e">]><domain type='qemu'><name>&n;</name></domain>` },
        400,
        "invalid_xml",
        /DOCTYPE/,
      ],
      [{ xml: domXml({ name: "bad..name" }) }, 400, "invalid_request", /vm name "bad..name" is invalid/],
      [{ xml: domXml({ name: "xv-a" }) }, 409, "conflict", /vm xv-a already exists/],
      [{ xml: domXml({ name: "test" }) }, 409, "conflict", /libvirt domain named test already exists/],
      [
        { xml: domXml({ name: "xv-u1", uuid: testUuid }) },
        409,
        "conflict",
        /libvirt domain test already has uuid/,
      ],
      [
        { xml: domXml({ name: "xv-u2", uuid: aUuid.toUpperCase() }) },
        409,
        "conflict",
        /libvirt domain xv-a already has uuid/,
      ],
      [
        { xml: domXml({ name: "xv-t", type: "test" }) },
        400,
        "xml_not_allowed",
        /domain type test is not allowed here: use qemu/,
      ],
      [{ xml: domXml({ name: "xv-k", type: "kvm" }) }, 400, "xml_not_allowed", /domain type kvm/],
      [
        {
          xml: domXml({
            name: "xv-b",
            devices:
              "<disk type='block' device='disk'><source dev='/dev/sda'/><target dev='sdb' bus='scsi'/></disk>",
          }),
        },
        400,
        "xml_not_allowed",
        /domain\/devices\/disk@type: block is not one of file/,
      ],
      [
        { xml: domXml({ name: "xv-h", disk: "/etc/shadow" }) },
        400,
        "xml_not_allowed",
        /\/etc\/shadow is not a volume of berth's pool directory/,
      ],
      [
        { xml: domXml({ name: "xv-emu", devices: "<emulator>/bin/true</emulator>" }) },
        400,
        "xml_not_allowed",
        /emulator \/bin\/true/,
      ],
      [
        {
          xml: domXml({
            name: "xv-q",
            extra:
              "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></qemu:commandline>",
          }),
        },
        400,
        "xml_not_allowed",
        /qemu:commandline/,
      ],
      [
        { xml: domXml({ name: "xv-schema", devices: "<bogus/>" }) },
        400,
        "xml_not_allowed",
        /<domain\/devices\/bogus> is not allowed/,
      ],
      [
        {
          xml: domXml({
            name: "xv-boot",
            devices:
              "<disk type='file' device='cdrom'><target dev='sdz' bus='scsi'/><boot order='1'/></disk>",
          }),
        },
        400,
        "invalid_xml",
        /libvirt refused the domain XML/,
      ],
      [
        {
          xml: domXml({ name: "xv-mem" }).replace(
            "<memory unit='MiB'>128</memory>",
            "<memory unit='MiB'>lots</memory>",
          ),
        },
        400,
        "xml_not_allowed",
        /<domain\/memory> lots is not allowed/,
      ],
      [{ xml: domXml({ name: "xv-tiny", mib: 8 }) }, 400, "invalid_xml", /at least 16 MiB/],
      [
        { xml: domXml({ name: "xv-f" }), colour: "red" },
        400,
        "invalid_request",
        /body.colour: Unexpected property/,
      ],
      [{ xml: 5 }, 400, "invalid_request", /body.xml: Expected string/],
      [{ xml: "" }, 400, "invalid_request", /body.xml/],
      [{ xml: domXml({ name: "xv-f" }), start: "yes" }, 400, "invalid_request", /body.start/],
      [
        { xml: domXml({ name: "xv-f" }), cpus: 2 },
        400,
        "invalid_request",
        /body.(cpus|xml): Unexpected property/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await define(body);
      expect({ body, status: r.status, code: r.body?.error?.code }).toEqual({ body, status, code });
      expect(r.body.error.message).toMatch(message);
    }
    expect(await rows()).toEqual(before.rows);
    expect(await domains()).toEqual(before.doms);
  });
});

describe("GET /v1/vms/{name}/xml", () => {
  test("dumps the live definition as text/xml, or the persistent one with inactive=true", async () => {
    const live = await getXml("/v1/vms/xv-run/xml");
    expect(live.status).toBe(200);
    expect(live.type).toStartWith("text/xml");
    expect(live.text).toStartWith("<domain type='qemu' id=");
    expect(live.text).toContain("<name>xv-run</name>");
    expect(live.text).toContain(`<source file='${diskOf["xv-run"]}'/>`);
    const inactive = await getXml("/v1/vms/xv-run/xml?inactive=true");
    expect(inactive.text).toStartWith("<domain type='qemu'>");
    expect(inactive.text).toContain(BERTH_NS);
  });

  test("404 for an unknown VM, 400 for a bad name or query, 409 when its domain is gone", async () => {
    expect((await getXml("/v1/vms/xv-nope/xml")).status).toBe(404);
    expect((await getXml("/v1/vms/bad..name/xml")).status).toBe(400);
    expect((await getXml("/v1/vms/xv-a/xml?colour=red")).status).toBe(400);
    const r = await define({ xml: domXml({ name: "xv-gone" }) });
    expect(r.status).toBe(200);
    await core.hv.call("domain.undefine", { name: "xv-gone" });
    const gone = await api.get("/v1/vms/xv-gone/xml");
    expectError(gone, 409, "conflict", /has no domain in libvirt/);
  });
});

describe("PUT /v1/vms/{name}/xml", () => {
  const uuidOf = async (name: string) => (await api.get(`/v1/vms/${name}`)).body.uuid as string;

  test("replaces the definition; berth's record follows; metadata survives XML without it", async () => {
    const uuid = await uuidOf("xv-a");
    const id = (await api.get("/v1/vms/xv-a")).body.id;
    const xml = domXml({
      name: "xv-a",
      uuid,
      mib: 256,
      devices: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${extraPath}'/><target dev='sdb' bus='scsi'/><shareable/></disk>`,
    });
    const r = await putXml("xv-a", { xml });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: "vm.redefine", status: "succeeded" });
    const vm = (await api.get("/v1/vms/xv-a")).body;
    expect(vm).toMatchObject({ id, uuid, memory_mib: 256, status: "stopped" });
    expect(vm.disks.map((d: { target: string; path: string }) => [d.target, d.path])).toEqual([
      ["sda", dataPath],
      ["sdb", extraPath],
    ]);
    expect((await core.hv.call("domain.info", { name: "xv-a" })).maxMemoryKiB).toBe(256 * 1024);
    expect(await metaId("xv-a")).toBe(id);
  });

  test("berth metadata naming another VM in the PUT is overwritten with this VM's id", async () => {
    const victim = (await api.get("/v1/vms/xv-a")).body.id;
    const own = (await api.get("/v1/vms/xv-hijack")).body.id;
    const extra = `\n  <metadata><b:vm xmlns:b="${BERTH_NS}" id="${victim}"/></metadata>`;
    const xml = domXml({ name: "xv-hijack", uuid: await uuidOf("xv-hijack"), extra });
    expect((await putXml("xv-hijack", { xml })).status).toBe(200);
    expect(await metaId("xv-hijack")).toBe(own);
    expect(await metaId("xv-a")).toBe(victim);
  });

  test("a running VM keeps its live definition without restart, and runs the new one with restart", async () => {
    const uuid = await uuidOf("xv-run");
    const first = await runId("xv-run");
    expect((await putXml("xv-run", { xml: domXml({ name: "xv-run", uuid, mib: 192 }) })).status).toBe(200);
    expect(await runId("xv-run")).toBe(first);
    expect((await core.hv.call("domain.info", { name: "xv-run" })).maxMemoryKiB).toBe(128 * 1024);
    expect((await getXml("/v1/vms/xv-run/xml?inactive=true")).text).toContain(
      "<memory unit='KiB'>196608</memory>",
    );
    const r = await putXml("xv-run", {
      xml: domXml({ name: "xv-run", uuid, mib: 320 }),
      restart: true,
    });
    expect(r.status).toBe(200);
    expect(await runId("xv-run")).not.toBe(first);
    expect((await core.hv.call("domain.info", { name: "xv-run" })).maxMemoryKiB).toBe(320 * 1024);
    expect((await api.get("/v1/vms/xv-run")).body).toMatchObject({ status: "running", memory_mib: 320 });
    expect(await metaId("xv-run")).toBe((await api.get("/v1/vms/xv-run")).body.id);
  });

  test("restart on a stopped VM leaves it stopped", async () => {
    const xml = domXml({ name: "xv-async", uuid: await uuidOf("xv-async"), mib: 64 });
    expect((await putXml("xv-async", { xml, restart: true })).status).toBe(200);
    expect((await core.hv.call("domain.info", { name: "xv-async" })).state).toBe("shutoff");
  });

  test("refusals leave the previous definition in place", async () => {
    const uuid = await uuidOf("xv-a");
    const otherUuid = await uuidOf("xv-run");
    const before = await getXml("/v1/vms/xv-a/xml?inactive=true");
    const cases: [string, Record<string, unknown>, number, string, RegExp][] = [
      ["xv-a", { xml: domXml({ name: "xv-b", uuid }) }, 400, "invalid_request", /renaming is not supported/],
      ["xv-a", { xml: domXml({ name: "xv-a" }) }, 400, "invalid_request", /has no <uuid>: give vm xv-a's/],
      ["xv-a", { xml: domXml({ name: "xv-a", uuid: otherUuid }) }, 409, "conflict", /is not vm xv-a's/],
      [
        "xv-a",
        { xml: domXml({ name: "xv-a", uuid, type: "test" }) },
        400,
        "xml_not_allowed",
        /domain type test/,
      ],
      [
        "xv-a",
        { xml: domXml({ name: "xv-a", uuid, disk: "/dev/sda" }) },
        400,
        "xml_not_allowed",
        /\/dev\/sda is not a volume of berth's pool/,
      ],
      [
        "xv-a",
        { xml: domXml({ name: "xv-a", uuid, devices: "<bogus/>" }) },
        400,
        "xml_not_allowed",
        /<domain\/devices\/bogus>/,
      ],
      ["xv-a", { xml: domXml({ name: "xv-a", uuid, mib: 8 }) }, 400, "invalid_xml", /MiB of memory/],
      ["xv-a", { xml: "<domain/>" }, 400, "invalid_xml", /<name>/],
      ["xv-a", { xml: domXml({ name: "xv-a", uuid }), reboot: true }, 400, "invalid_request", /body.reboot/],
      [
        "xv-a",
        { xml: domXml({ name: "xv-a", uuid }), restart: "now" },
        400,
        "invalid_request",
        /body.restart/,
      ],
      ["xv-a", {}, 400, "invalid_request", /body.xml/],
      ["xv-nope", { xml: domXml({ name: "xv-nope", uuid }) }, 404, "not_found", /vm xv-nope does not exist/],
      [
        "xv-gone",
        { xml: domXml({ name: "xv-gone", uuid }) },
        409,
        "conflict",
        /is not vm xv-gone's|no domain/,
      ],
    ];
    for (const [name, body, status, code, message] of cases) {
      const r = await putXml(name, body);
      expect({ name, body, status: r.status, code: r.body?.error?.code }).toEqual({
        name,
        body,
        status,
        code,
      });
      expect(r.body.error.message).toMatch(message);
    }
    expect((await getXml("/v1/vms/xv-a/xml?inactive=true")).text).toBe(before.text);
    expect((await api.get("/v1/vms/xv-a")).body.memory_mib).toBe(256);
  });

  test("a VM berth created cannot lose its own volume through a PUT (409); keeping it works", async () => {
    const made = await api.post("/v1/vms?wait=true", {
      name: "xv-native",
      cpus: 1,
      memory_mib: 128,
      root_disk_gb: 1,
      start: false,
    });
    expect(made.status).toBe(200);
    const vm = (await api.get("/v1/vms/xv-native")).body;
    const dropped = await putXml("xv-native", {
      xml: domXml({ name: "xv-native", uuid: vm.uuid }),
    });
    expectError(dropped, 409, "conflict", /disk root .* is a volume berth created for vm xv-native/);
    const kept = await putXml("xv-native", {
      xml: domXml({ name: "xv-native", uuid: vm.uuid, disk: vm.disks[0].path, mib: 200 }),
    });
    expect(kept.status).toBe(200);
    const after = (await api.get("/v1/vms/xv-native")).body;
    expect(after.disks).toEqual([
      expect.objectContaining({ name: "root", target: "sda", volume: vm.disks[0].volume }),
    ]);
    expect(after.memory_mib).toBe(200);
    // Deleting still removes berth's own volume.
    expect((await api.delete("/v1/vms/xv-native?wait=true")).status).toBe(200);
    const vols = (await core.hv.call("volume.list", { pool })).map((v) => v.name);
    expect(vols).not.toContain(vm.disks[0].volume);
  });

  test("a second action while one runs is 409", async () => {
    const xml = domXml({ name: "xv-run", uuid: await uuidOf("xv-run"), mib: 320 });
    const first = await api.put("/v1/vms/xv-run/xml", { xml, restart: true });
    expect(first.status).toBe(202);
    const second = await api.put("/v1/vms/xv-run/xml", { xml });
    expectError(second, 409, "conflict", /busy/);
    expect((await api.get(`/v1/operations/${first.body.id}/wait?timeout=10`)).body.status).toBe("succeeded");
  });
});

test("the OpenAPI document describes the XML routes and what XML may reach", async () => {
  const doc = (await api.get("/openapi.json")).body;
  const xml = doc.paths["/v1/vms/{name}/xml"];
  expect(Object.keys(xml).sort()).toEqual(["get", "put"]);
  expect(xml.get.responses["200"].content["text/xml"]).toBeDefined();
  expect(xml.put.description).toContain("keeps running on its old live definition");
  expect(xml.put.description).toContain("allowlist");
  expect(xml.put.description).toContain("Admins only");
  expect(doc.paths["/v1/vms"].post.description).toContain("raw libvirt XML");
});

describe("DELETE of a VM defined from XML", () => {
  test("removes the domain but never the disks the XML brought", async () => {
    for (const name of ["xv-a", "xv-run", "xv-hijack", "xv-async", "xv-gone"]) {
      expect((await api.delete(`/v1/vms/${name}?wait=true`)).status).toBe(200);
    }
    expect(await domains()).not.toContain("xv-a");
    const vols = (await core.hv.call("volume.list", { pool })).map((v) => v.name);
    expect(vols).toEqual(
      expect.arrayContaining([
        "xv-data.qcow2",
        "xv-extra.qcow2",
        "xv-run-data.qcow2",
        "xv-hijack-data.qcow2",
      ]),
    );
  });
});

describe("a VM defined from raw XML keeps the user's definition", () => {
  test("berth's own rebuilds are refused with 409 pointing at PUT /xml; tags still change", async () => {
    expect((await define({ xml: domXml({ name: "xv-raw" }) })).status).toBe(200);
    const vm = (await api.get("/v1/vms/xv-raw")).body;
    expect(vm.boot.mode).toBe("xml");
    const before = await core.hv.call("domain.xml", { name: "xv-raw", flags: 2 });
    const add = await api.post("/v1/vms/xv-raw/disks?wait=true", { name: "more", size_gb: 1 });
    expectError(add, 409, "conflict", /PUT \/v1\/vms\/xv-raw\/xml/);
    expectError(await api.delete("/v1/vms/xv-raw/disks/sda?wait=true"), 409, "conflict", /raw XML/);
    expectError(await api.patch("/v1/vms/xv-raw", { cpus: 3 }), 409, "conflict", /raw XML/);
    expect((await api.patch("/v1/vms/xv-raw", { tags: { raw: "yes" } })).status).toBe(200);
    expect(await core.hv.call("domain.xml", { name: "xv-raw", flags: 2 })).toBe(before);
    expect((await api.delete("/v1/vms/xv-raw?wait=true")).status).toBe(200);
  });
});
