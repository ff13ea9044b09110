// The staging agent's API on real libvirtd + QEMU + OVS: a VLAN network, hosts on it (one installing) with sda on virtio-scsi.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { debianTree, serveTree } from "../unit/core/install-fixtures.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-stg-${id}`;
const OVS = `berthstg${id}`.slice(0, 15);
const NET = `stg_${id}_vlan_10`;
const HOST = `ns${id}.example.com`;
const SHORT = `ns${id}`;

describe.skipIf(!integrationReady())("the staging agent's API on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  const ok = async (p: Promise<{ status: number; body: Json }>, want: number) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };
  const ovs = (...args: string[]) => run(["ovs-vsctl", "--timeout=10", ...args]);

  // The tiny guest's kernel and initrd stand in for the installer: Debian's netboot layout at the example's path.
  let tree: ReturnType<typeof serveTree>;

  beforeAll(async () => {
    buildGuest();
    tree = serveTree(debianTree("/ubuntu/dists/xenial/", Bun.file(GUEST.kernel), Bun.file(GUEST.initrd)));
    // The install tree is served on loopback.
    core = await systemCore(
      POOL,
      `[network]\novs_datapath = "netdev"\nmanage_bridges = true\n[images]\nallow_private_networks = true\n`,
    );
    api = apiClient(core);
  }, 600_000);

  afterAll(async () => {
    tree?.stop();
    if (!core) return;
    for (const h of [SHORT, HOST]) await api.delete(`/hosts/${h}`);
    await api.delete(`/networks/${NET}`);
    const left = (await core.hv.call("volume.list", { pool: POOL }).catch(() => [])).map((v) => v.name);
    await core.hv.call("pool.destroy", { pool: POOL }).catch(() => undefined);
    await core.hv.call("pool.undefine", { pool: POOL }).catch(() => undefined);
    ovs("--if-exists", "del-br", OVS);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("POST /networks/:network makes a persistent OVS network with the VLAN, creating the bridge", async () => {
    const r = await ok(api.post(`/networks/${NET}`, { bridge: OVS, vlan: 10 }), 201);
    expect(r.body).toEqual({ name: NET, state: "active", autostart: "yes", persistent: "yes" });
    expect(ovs("br-exists", OVS).ok).toBe(true);
    expect(ovs("get", "bridge", OVS, "datapath_type").out.trim()).toBe("netdev");
    const virsh = run(["virsh", "-c", SYSTEM_URI, "net-dumpxml", NET]);
    expect(virsh.out).toContain("<virtualport type='openvswitch'/>");
    expect(virsh.out).toContain("<tag id='10'/>");
  }, 60_000);

  test("POST /hosts/:host with the document's example body (install from a local tree): sda on virtio-scsi, NIC on VLAN 10", async () => {
    const r = await ok(
      api.post(`/hosts/${HOST}/`, {
        memory: 512,
        disks: [8],
        networks: [NET],
        install: true,
        location: tree.url("/ubuntu/dists/xenial/main/installer-amd64"),
        cmdline: GUEST.cmdline,
      }),
      201,
    );
    expect(r.body).toEqual({ id: expect.any(String), name: HOST, state: "running" });
    // The libvirt domain is named as the host: virsh finds it by the name the agent's clients use.
    const dump = run(["virsh", "-c", SYSTEM_URI, "dumpxml", HOST]);
    expect(dump.ok).toBe(true);
    expect(dump.out).toContain(`<name>${HOST}</name>`);
    const xml = await core.hv.call("domain.xml", { name: HOST });
    expect(xml).toContain(`vm-${r.body.id}-install-kernel</kernel>`);
    expect(xml).toContain("<controller type='scsi' index='0' model='virtio-scsi'>");
    expect(xml).toMatch(/<disk type='file' device='disk'>[\s\S]*?<target dev='sda' bus='scsi'\/>/);
    // The live definition shows the NIC as a port of that network's bridge, with its tap device.
    const port = new RegExp(`<source network='${NET}'[\\s\\S]*?<target dev='(vnet\\d+)'`).exec(xml)?.[1];
    expect(port).toBeDefined();
    await waitFor(
      () => ovs("get", "port", port as string, "tag").out.trim() === "10",
      10_000,
      "the port's tag",
    );
    // The "installer" (the tiny guest) sees its 8 GiB disk as sda and its NIC.
    const mac = /<mac address='([0-9a-f:]+)'/.exec(xml)?.[1];
    const log = `${core.config.data_dir}/console/${r.body.id}.log`;
    await waitFor(() => consoleReports(log).includes(`nic eth0 ${mac}`), 120_000, "the installer's NIC");
    expect(consoleReports(log)).toContain(`block sda ${(8 * 2 ** 30) / 512}`);
    expect((await api.get(`/hosts/${HOST}`)).body).toEqual(r.body);
  }, 180_000);

  test("ns coexists with ns.example.com: PUT start, then DELETE of ns leaves the other's domain and disks alone", async () => {
    const short = await ok(api.post(`/hosts/${SHORT}`, { memory: 256, disks: [1], networks: [NET] }), 201);
    expect(short.body.state).toBe("running");
    expect(run(["virsh", "-c", SYSTEM_URI, "destroy", SHORT]).ok).toBe(true);
    await waitFor(
      async () => (await api.get(`/hosts/${SHORT}`)).body.state === "shut off",
      10_000,
      "shut off",
    );
    await ok(api.put(`/hosts/${SHORT}/start`), 204);
    expect((await api.get(`/hosts/${SHORT}`)).body.state).toBe("running");

    const fqdn = (await ok(api.get(`/hosts/${HOST}`), 200)).body;
    const vols = async () => (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    expect(await vols()).toContain(`vm-${short.body.id}-0.qcow2`);
    await ok(api.delete(`/hosts/${SHORT}`), 204);
    expect((await api.get(`/hosts/${SHORT}`)).status).toBe(404);
    expect((await api.get(`/hosts/${HOST}`)).body).toEqual({ id: fqdn.id, name: HOST, state: "running" });
    expect(await vols()).not.toContain(`vm-${short.body.id}-0.qcow2`);
    expect(await vols()).toContain(`vm-${fqdn.id}-0.qcow2`);
    expect(await vols()).toContain(`vm-${fqdn.id}-install-kernel`);
  }, 120_000);

  test("DELETE the installing host and the network: nothing left behind", async () => {
    const fqdn = (await ok(api.get(`/hosts/${HOST}`), 200)).body;
    await ok(api.delete(`/hosts/${HOST}`), 204);
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(HOST);
    const vols = (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    expect(vols.filter((v) => v.includes(fqdn.id))).toEqual([]);
    await ok(api.delete(`/networks/${NET}`), 204);
    expect((await api.get(`/networks/${NET}`)).status).toBe(404);
    expect(ovs("br-exists", OVS).ok).toBe(false);
  }, 120_000);
});
