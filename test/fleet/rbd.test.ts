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
const snapNames = (volume: string) =>
  (
    JSON.parse(rbd(["snap", "ls", "--format", "json", `${(ceph as CephCluster).pool}/${volume}`])) as {
      name: string;
    }[]
  )
    .map((s) => s.name)
    .sort();

/** sha256 of the whole RBD image as `rbd export` streams it (never held in memory at once). */
async function rbdSum(volume: string): Promise<string> {
  const c = ceph as CephCluster;
  const p = Bun.spawn(
    ["ip", "netns", "exec", c.ns, "rbd", "-c", c.conf, "export", "--no-progress", `${c.pool}/${volume}`, "-"],
    { stdout: "pipe", stderr: "pipe" },
  );
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of p.stdout) h.update(chunk);
  if ((await p.exited) !== 0) throw new Error(`rbd export ${volume}: ${await new Response(p.stderr).text()}`);
  return h.digest("hex");
}

/** Writes 64 KiB of `rbd bench` data at the image's start (a different pattern each time: random offsets within it). */
const scribble = (volume: string) =>
  rbd([
    "bench",
    "--io-type",
    "write",
    "--io-size",
    "4096",
    "--io-threads",
    "1",
    "--io-total",
    "65536",
    "--io-pattern",
    "rand",
    `${(ceph as CephCluster).pool}/${volume}`,
  ]);

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
    // A snapshot of the running VM is an RBD snapshot of its disk (no memory); a revert while it runs is refused.
    const snap = (await ok("POST", `/v1/vms/${vm}/snapshots?wait=true`, { name: "s1" }, 200)) as {
      result: { name: string; state: string; memory_state: boolean };
    };
    expect(snap.result).toMatchObject({ name: "s1", state: "running", memory_state: false });
    expect(snapNames(volume)).toEqual(["s1"]);
    const revert = await admin.call("POST", `/v1/vms/${vm}/snapshots/s1/revert?wait=true`);
    expect(revert.status).toBe(409);
    expect(JSON.stringify(revert.body)).toContain("stop it");
    // Deleting the VM removes its RBD image, snapshots and all.
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

describe("snapshots on rbd", () => {
  test("one RBD snapshot per disk, the config drive left out; revert (stopped) restores the content; delete removes them; a clash part-way leaves none", async () => {
    const c = ceph as CephCluster;
    const vm = `rs-${id}`;
    await ok(
      "POST",
      "/v1/vms?wait=true",
      {
        name: vm,
        profile: "p",
        root_disk_gb: 1,
        start: false,
        ssh_keys: [
          `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl rs-${id}@x`,
        ],
      },
      200,
    );
    await ok("POST", `/v1/vms/${vm}/disks?wait=true`, { name: "data", size_gb: 1 }, 200);
    const disks = (
      (await ok("GET", `/v1/vms/${vm}`, undefined, 200)) as {
        disks: { name: string; path: string; device: string }[];
      }
    ).disks;
    const vols = disks
      .filter((d) => d.path.startsWith(`${c.pool}/`))
      .map((d) => d.path.slice(c.pool.length + 1));
    expect(vols.length).toBe(2);
    // The config drive is a local CD-ROM: the VM has one, and it is not an RBD image.
    expect(disks.some((d) => d.device === "cdrom" && !d.path.startsWith(`${c.pool}/`))).toBe(true);
    for (const v of vols) scribble(v);
    const before = await Promise.all(vols.map(rbdSum));

    const taken = (await ok(
      "POST",
      `/v1/vms/${vm}/snapshots?wait=true`,
      { name: "s1", description: "d" },
      200,
    )) as {
      result: unknown;
      message: string;
    };
    expect(taken.result).toMatchObject({
      name: "s1",
      description: "d",
      state: "shutoff",
      memory_state: false,
    });
    // The operation says which disks the snapshot left out: the config drive.
    const cdrom = disks.find((d) => d.device === "cdrom") as { name: string };
    expect(taken.message).toContain(`left out: ${cdrom.name} (`);
    for (const v of vols) expect(snapNames(v)).toEqual(["s1"]);
    const listed = (await ok("GET", `/v1/vms/${vm}/snapshots`, undefined, 200)) as { name: string }[];
    expect(listed.map((s) => s.name)).toEqual(["s1"]);
    expect(await ok("GET", `/v1/vms/${vm}/snapshots/s1`, undefined, 200)).toEqual(taken.result);

    // Written after the snapshot: the content differs; the revert brings back the snapshot's bytes.
    for (const v of vols) scribble(v);
    const after = await Promise.all(vols.map(rbdSum));
    expect(after).not.toEqual(before);
    await ok("POST", `/v1/vms/${vm}/snapshots/s1/revert?wait=true`, undefined, 200);
    expect(await Promise.all(vols.map(rbdSum))).toEqual(before);

    // A snapshot name already taken outside berth on the second disk: found part-way, the first disk's is removed.
    const second = vols[1] as string;
    rbd(["snap", "create", `${c.pool}/${second}@clash`]);
    const clash = await admin.call("POST", `/v1/vms/${vm}/snapshots?wait=true`, { name: "clash" }, 120_000);
    expect(clash.status).toBe(409);
    expect(snapNames(vols[0] as string)).toEqual(["s1"]);
    expect(snapNames(second)).toEqual(["clash", "s1"]);
    expect(
      ((await ok("GET", `/v1/vms/${vm}/snapshots`, undefined, 200)) as { name: string }[]).map((s) => s.name),
    ).toEqual(["s1"]);
    rbd(["snap", "rm", `${c.pool}/${second}@clash`]);

    // Delete removes every disk's RBD snapshot and the record.
    await ok("DELETE", `/v1/vms/${vm}/snapshots/s1?wait=true`, undefined, 200);
    for (const v of vols) expect(snapNames(v)).toEqual([]);
    expect(await ok("GET", `/v1/vms/${vm}/snapshots`, undefined, 200)).toEqual([]);
    await ok("DELETE", `/v1/vms/${vm}?wait=true`, undefined, 200);
    for (const v of vols) expect(rbd(["ls", c.pool]).split("\n")).not.toContain(v);
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

describe("an image on rbd", () => {
  test("deleting it removes its RBD image and snapshot; refused with 409 while a clone of it exists", async () => {
    const c = ceph as CephCluster;
    const img = (await ok("GET", "/v1/images/base", undefined, 200)) as { id: string };
    const volume = `image-${img.id}`;
    expect(rbd(["ls", c.pool]).split("\n")).toContain(volume);
    // The profile names the image; the VMs made from it are gone.
    expect([200, 204]).toContain((await admin.call("DELETE", "/v1/profiles/p")).status);
    // A clone berth's records do not know (a VM disk of another host, say) holds the image.
    const [snap] = snapNames(volume);
    expect(snap).toBeTruthy();
    const clone = `outside-clone-${id}`;
    rbd(["clone", `${c.pool}/${volume}@${snap}`, `${c.pool}/${clone}`]);
    const refused = await admin.call("DELETE", "/v1/images/base");
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain(`${c.pool}/${clone}`);
    expect((await admin.call("GET", "/v1/images/base")).status).toBe(200);
    expect(rbd(["ls", c.pool]).split("\n")).toContain(volume);
    rbd(["rm", "--no-progress", `${c.pool}/${clone}`]);
    await ok("DELETE", "/v1/images/base", undefined, 200);
    expect(rbd(["ls", c.pool]).split("\n")).not.toContain(volume);
    expect((await admin.call("GET", "/v1/images/base")).status).toBe(404);
  }, 120_000);
});
