// [storage] backend = "rbd": a berth whose VM disks are RBD clones on a single-node Ceph; the tiny guest boots from that cluster.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildGuest, GUEST } from "../integration/support/guest.ts";
import { BerthNode } from "./support/berth-node.ts";
import { type CephCluster, cephUp } from "./support/ceph.ts";
import { FleetClient } from "./support/client.ts";
import { type LibvirtHost, libvirtHostClear, libvirtHostUp } from "./support/libvirt-host.ts";
import { FLEET_NET, type FleetNet, netDown, netNames, netUp } from "./support/net.ts";
import { run, stopPids, until } from "./support/run.ts";
import { USERS, usersToml } from "./support/topology.ts";

const id = crypto
  .getRandomValues(new Uint8Array(2))
  .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
let dir = "";
let net: FleetNet | null = null;
let host: LibvirtHost | null = null;
let ceph: CephCluster | null = null;
let berth: BerthNode | null = null;
let admin: FleetClient;

beforeAll(async () => {
  buildGuest();
  dir = mkdtempSync(join("/var/tmp", `berth-rbd-${id}-`));
  chmodSync(dir, 0o755);
  // Its own subnet: the other fleet suites' root veths sit on SUBNET.
  net = netNames(id, ["a", "c"], `${FLEET_NET}.3`);
  netUp(net);
  host = await libvirtHostUp(
    "a",
    net.ns.a as string,
    net.ip.a as string,
    join(dir, "host-a"),
    "127.0.0.1 localhost\n",
  );
  ceph = await cephUp(net.ns.c as string, net.ip.c as string, join(dir, "ceph"));
  const guest = join(dir, "guest");
  mkdirSync(guest);
  copyFileSync(GUEST.kernel, join(guest, "vmlinuz"));
  copyFileSync(GUEST.initrd, join(guest, "initramfs.img"));
  run(["qemu-img", "create", "-q", "-f", "qcow2", join(guest, "base.qcow2"), "64M"]);
  berth = new BerthNode(host, {
    etcd: [],
    secret: "",
    leaseTtlS: 3,
    prefix: "/berth",
    usersToml: await usersToml(),
    storageToml: [
      'backend = "rbd"',
      `rbd_pool = "${ceph.pool}"`,
      `ceph_monitors = ["${ceph.ip}:6789"]`,
      `ceph_user = "${ceph.user}"`,
      `ceph_key_file = "${ceph.keyFile}"`,
    ],
    importDirs: [guest],
    pvcListen: `${host.ip}:7370`,
  });
  await berth.start();
  admin = await new FleetClient(berth, "admin").login();
}, 180_000);

afterAll(async () => {
  await berth?.stop();
  if (host) {
    libvirtHostClear(host);
    await stopPids([host.libvirtdPid, host.virtlogdPid]);
  }
  await ceph?.down();
  if (net) netDown(net);
  if (dir && !process.env.RBD_KEEP) rmSync(dir, { recursive: true, force: true });
}, 120_000);

async function ok(method: string, path: string, body: unknown, want: number): Promise<unknown> {
  const r = await admin.call(method, path, body, 120_000);
  if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const rbd = (args: string[]) => (ceph as CephCluster).admin("rbd", args);

describe("a VM on rbd", () => {
  test("boots the tiny guest from an RBD clone of its image, answers on HTTP, and its clone goes with it", async () => {
    const c = ceph as CephCluster;
    const guest = join(dir, "guest");
    await ok(
      "POST",
      "/v1/images?wait=true",
      {
        name: "k",
        kind: "kernel",
        kernel: { path: join(guest, "vmlinuz") },
        initrd: { path: join(guest, "initramfs.img") },
      },
      200,
    );
    const img = (await ok(
      "POST",
      "/v1/images?wait=true",
      { name: "base", kind: "disk", path: join(guest, "base.qcow2") },
      200,
    )) as {
      result?: { id: string };
    };
    await ok("POST", "/v1/networks", { name: "nat", mode: "nat", subnet: "10.250.7.0/24" }, 201);
    await ok(
      "POST",
      "/v1/profiles",
      {
        name: "p",
        cpus: 1,
        memory_mib: 256,
        image: "base",
        networks: ["nat"],
        boot: { mode: "kernel", kernel_image: "k", cmdline: GUEST.cmdline },
      },
      201,
    );
    const vm = `r-${id}`;
    await ok("POST", "/v1/vms?wait=true", { name: vm, profile: "p" }, 200);
    const row = (await ok("GET", `/v1/vms/${vm}`, undefined, 200)) as {
      id: string;
      disks: { path: string }[];
    };
    const volume = `vm-${row.id}-0`;
    // The disk is an RBD copy-on-write clone whose parent is the image's RBD volume.
    expect(rbd(["ls", c.pool]).split("\n")).toContain(volume);
    const info = rbd(["info", `${c.pool}/${volume}`]);
    expect(info).toMatch(new RegExp(`parent: ${c.pool}/image-[0-9a-f-]+@`));
    // The image was imported under a name of its own and renamed once whole: no partial import is left.
    expect(
      rbd(["ls", c.pool])
        .split("\n")
        .filter((l) => l.includes(".part-")),
    ).toEqual([]);
    // libvirt has it as a network disk with the cephx secret's UUID on virtio-scsi, never the key.
    const xml = run(["virsh", "-c", (host as LibvirtHost).uri, "dumpxml", vm]);
    expect(xml).toContain("<disk type='network' device='disk'>");
    expect(xml).toContain(`<source protocol='rbd' name='${c.pool}/${volume}'`);
    expect(xml).toMatch(/<auth username='berth'>\s*<secret type='ceph' uuid='[0-9a-f-]{36}'\/>/);
    expect(xml).toContain("<target dev='sda' bus='scsi'/>");
    expect(xml).not.toContain(c.key);
    // The guest boots from it: its console reports an address and the HTTP server.
    let ip = "";
    await until(
      async () => {
        const r = await admin.call("GET", `/v1/vms/${vm}/console?lines=200`);
        const text = JSON.stringify(r.body);
        ip = /ip eth0 ([0-9.]+)/.exec(text)?.[1] ?? "";
        return ip !== "" && text.includes("listening 8080");
      },
      90_000,
      "the guest on RBD to boot",
    );
    const http = run([
      "ip",
      "netns",
      "exec",
      (net as FleetNet).ns.a as string,
      "curl",
      "-s",
      "-m",
      "5",
      `http://${ip}:8080/`,
    ]);
    expect(http).toContain("berth test guest");
    // The key is in no answer berth gives.
    for (const path of [`/v1/vms/${vm}`, `/v1/vms/${vm}/xml`, "/v1/vms", "/v1"]) {
      const r = await admin.call("GET", path);
      expect(JSON.stringify(r.body)).not.toContain(c.key);
    }
    // A disk added while it runs is a blank RBD image, hot-plugged as sdb; removing it deletes the image.
    await ok("POST", `/v1/vms/${vm}/disks?wait=true`, { name: "data", size_gb: 1 }, 200);
    const data = `vm-${row.id}-1`;
    expect(rbd(["ls", c.pool]).split("\n")).toContain(data);
    expect(rbd(["info", `${c.pool}/${data}`])).not.toContain("parent:");
    expect(run(["virsh", "-c", (host as LibvirtHost).uri, "dumpxml", vm])).toContain(
      `<source protocol='rbd' name='${c.pool}/${data}'`,
    );
    await ok("DELETE", `/v1/vms/${vm}/disks/data?wait=true`, undefined, 200);
    expect(rbd(["ls", c.pool]).split("\n")).not.toContain(data);
    // Snapshots need qcow2: refused, naming the disk's format.
    const snap = await admin.call("POST", `/v1/vms/${vm}/snapshots`, { name: "s1" });
    expect(snap.status).toBe(409);
    expect(JSON.stringify(snap.body)).toContain("rbd");
    await ok("DELETE", `/v1/vms/${vm}?wait=true`, undefined, 200);
    expect(rbd(["ls", c.pool]).split("\n")).not.toContain(volume);
    // The image's own RBD volume stays for the next clone.
    expect(
      rbd(["ls", c.pool])
        .split("\n")
        .some((l) => l.startsWith("image-")),
    ).toBe(true);
    expect(img).toBeTruthy();
  }, 240_000);
});

describe("capacity of the Ceph pool", () => {
  test("a create, disk add or resize larger than the cluster is refused before anything is made; one that fits is made", async () => {
    const c = ceph as CephCluster;
    const libvirtPool = "berth-fleet-rbd";
    // The OSD is a 10 GiB file; the directory pool's filesystem has room for 20 GiB, the cluster has not.
    const images = () => rbd(["ls", c.pool]).split("\n").filter(Boolean).sort();
    const before = images();
    const refused = async (method: string, path: string, body: unknown) => {
      const r = await admin.call(method, path, body, 120_000);
      expect({ status: r.status, code: (r.body as { error?: { code?: string } }).error?.code }).toEqual({
        status: 507,
        code: "insufficient_storage",
      });
      expect(JSON.stringify(r.body)).toContain(`storage pool ${libvirtPool}`);
      expect(images()).toEqual(after);
    };
    const big = `rbig-${id}`;
    let after = before;
    await refused("POST", "/v1/vms?wait=true", {
      name: big,
      cpus: 1,
      memory_mib: 32,
      root_disk_gb: 20,
      start: false,
    });
    expect((await admin.call("GET", `/v1/vms/${big}`)).status).toBe(404);
    expect(run(["virsh", "-q", "-c", (host as LibvirtHost).uri, "list", "--all", "--name"])).not.toContain(
      big,
    );

    const vm = `rfit-${id}`;
    await ok(
      "POST",
      "/v1/vms?wait=true",
      { name: vm, cpus: 1, memory_mib: 32, root_disk_gb: 1, start: false },
      200,
    );
    const row = (await ok("GET", `/v1/vms/${vm}`, undefined, 200)) as { id: string };
    const root = `vm-${row.id}-0`;
    after = images();
    expect(after).toEqual([...before, root].sort());
    await refused("POST", `/v1/vms/${vm}/disks?wait=true`, { name: "huge", size_gb: 20 });
    const rootDisk = ((await ok("GET", `/v1/vms/${vm}`, undefined, 200)) as { disks: { name: string }[] })
      .disks[0]?.name as string;
    await refused("PATCH", `/v1/vms/${vm}/disks/${rootDisk}`, { size_gb: 20 });
    // A resize that fits grows the RBD image itself (the VM is stopped: resized in the rbd pool).
    await ok("PATCH", `/v1/vms/${vm}/disks/${rootDisk}?wait=true`, { size_gb: 2 }, 200);
    expect(rbd(["info", `${c.pool}/${root}`])).toContain("size 2 GiB");
    await ok("DELETE", `/v1/vms/${vm}?wait=true`, undefined, 200);
    expect(images()).toEqual(before);
  }, 180_000);
});

describe("PVC's Ceph endpoints on rbd", () => {
  const pvc = async (path: string, method = "GET") => {
    const basic = Buffer.from(`admin:${USERS.admin.password}`).toString("base64");
    const r = await fetch(`http://${(host as LibvirtHost).ip}:7370/api/v1/storage/ceph${path}`, {
      method,
      headers: { authorization: `Basic ${basic}` },
      signal: AbortSignal.timeout(30_000),
    });
    return { status: r.status, body: (await r.json()) as unknown };
  };

  test("status, df and pools answer from the cluster; OSDs and changes say berth does not manage it", async () => {
    const c = ceph as CephCluster;
    // An image berth did not make: the answer counts what the cluster holds, not berth's records.
    c.admin("rbd", ["create", "--size", "8", `${c.pool}/outside-${id}`]);
    const images = rbd(["ls", c.pool]).split("\n").filter(Boolean).length;
    const status = await pvc("/status");
    expect(status.status).toBe(200);
    expect((status.body as { ceph_data: string }).ceph_data).toContain(`pool ${c.pool}: ${images} images`);
    expect((await pvc("/df")).body).toMatchObject({ type: "utilization" });
    const pools = await pvc("/pool");
    expect(pools.status).toBe(200);
    const [pool] = pools.body as { name: string; volume_count: number; stats: { free_bytes: number } }[];
    expect(pool?.name).toBe(c.pool);
    expect(pool?.volume_count).toBe(images);
    expect(pool?.stats.free_bytes).toBeGreaterThan(0);
    expect((await pvc(`/pool/${c.pool}`)).status).toBe(200);
    // PVC's dialect answers every failure but a missing VM with 510.
    expect(await pvc("/pool/nosuch")).toEqual({
      status: 510,
      body: { message: "ERROR: pool nosuch not found" },
    });
    expect((await pvc("/pool?limit=^nosuch$")).body).toEqual([]);
    const osd = await pvc("/osd");
    expect(osd.status).toBe(510);
    expect(JSON.stringify(osd.body)).toContain("does not manage the cluster");
    expect(await pvc(`/pool/${c.pool}/add?pgs=8`, "POST")).toEqual({
      status: 510,
      body: {
        message:
          "ERROR: berth uses Ceph pool storage but does not manage the cluster: it does not add a Ceph pool",
      },
    });
    expect(JSON.stringify((await pvc("/status")).body)).not.toContain(c.key);
    c.admin("rbd", ["rm", `${c.pool}/outside-${id}`]);
  }, 60_000);
});
