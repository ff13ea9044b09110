// VMs on RBD across two hosts: live migration copies nothing; a host that dies shows its VMs unreachable, an admin recovers them on another host, and the dead host drops them when it is back.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GUEST } from "../integration/support/guest.ts";
import type { CephCluster } from "./support/ceph.ts";
import { FleetClient } from "./support/client.ts";
import * as moves from "./support/moves.ts";
import { run, until } from "./support/run.ts";
import { fleetUp, type Topology } from "./support/topology.ts";

type Host = "a" | "b";
let fleet: Topology;
let admin: Record<Host, FleetClient>;
let alice: Record<Host, FleetClient>;
const vmName = (tag: string) => `${tag}-${fleet.id}`;
const ceph = () => fleet.ceph as CephCluster;

beforeAll(async () => {
  fleet = await fleetUp(3, { ceph: true });
  admin = {
    a: await new FleetClient(fleet.berths.a, "admin").login(),
    b: await new FleetClient(fleet.berths.b, "admin").login(),
  };
  alice = {
    a: await new FleetClient(fleet.berths.a, "alice").login(),
    b: await new FleetClient(fleet.berths.b, "alice").login(),
  };
  // Each host has the guest's kernel image and its network under the same names.
  for (const c of [admin.a, admin.b]) {
    const img = await c.call(
      "POST",
      "/v1/images?wait=true",
      { name: "tiny-k", kind: "kernel", kernel: { path: GUEST.kernel }, initrd: { path: GUEST.initrd } },
      120_000,
    );
    expect(img.status).toBe(200);
    const net = await c.call("POST", "/v1/networks", {
      name: "recnet",
      mode: "nat",
      subnet: "10.250.9.0/24",
    });
    expect(net.status).toBe(201);
  }
  const profile = {
    name: "tiny-rbd",
    cpus: 1,
    memory_mib: 256,
    root_disk_gb: 1,
    networks: ["recnet"],
    boot: { mode: "kernel", kernel_image: "tiny-k", cmdline: GUEST.cmdline },
  };
  expect((await admin.a.call("POST", "/v1/profiles", profile)).status).toBe(201);
}, 300_000);

afterAll(async () => {
  await fleet?.down();
}, 180_000);

function domains(host: Host, state = "--all"): string[] {
  return run(["virsh", "-q", "-c", fleet.hosts[host].uri, "list", state, "--name"])
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
}

const rbdImages = () => ceph().admin("rbd", ["ls", ceph().pool]).split("\n").filter(Boolean);
const poolFiles = (host: Host) =>
  readdirSync(join(fleet.hosts[host].dir, "lib/berth-pool")).filter((f) => f.startsWith("vm-"));

async function claimOf(name: string): Promise<Record<string, string> | null> {
  const raw = await fleet.etcd.client.get(`${fleet.prefix}/names/${name}`).string();
  return raw === null ? null : (JSON.parse(raw) as Record<string, string>);
}

function vmRows(host: Host): string[] {
  const db = new Database(join(fleet.hosts[host].dir, "lib/berth-data/berth.db"), { readonly: true });
  try {
    return (db.query("SELECT name FROM vms").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

/** A host's console log of the VM with id `id` (from the root namespace). */
function consoleLines(host: Host, id: string): string[] {
  const file = join(fleet.hosts[host].dir, "lib/berth-data/console", `${id}.log`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
}

const curlFrom = (host: Host, ip: string) => moves.curlFrom(fleet, host, ip);

/** Waits until the guest with id `id` on `host` has listened since its console had `after` lines; its address then. */
async function guestUp(host: Host, id: string, after = 0): Promise<string> {
  let ip = "";
  await until(
    () => {
      const lines = consoleLines(host, id).slice(after);
      ip = lines.map((l) => /BERTH-GUEST: ip eth0 (\S+)/.exec(l)?.[1]).find(Boolean) ?? "";
      return ip !== "" && lines.some((l) => l.includes("listening 8080"));
    },
    120_000,
    `the guest to listen on ${host}`,
  );
  return ip;
}

async function create(c: FleetClient, body: Record<string, unknown>): Promise<string> {
  const r = await c.call("POST", "/v1/vms?wait=true", body, 180_000);
  expect([r.status, JSON.stringify(r.body).slice(0, 300)]).toEqual([200, expect.any(String)]);
  return (r.body as { result: { id: string } }).result.id;
}

const ticks = (lines: string[]) =>
  lines
    .map((l) => /BERTH-GUEST: tick (\d+)/.exec(l)?.[1])
    .filter((t) => t !== undefined)
    .map(Number);

describe("live migration on RBD", () => {
  test("a running guest moves a -> b with nothing copied, keeps counting, answers from b; its RBD image stays one", async () => {
    const name = vmName("lm");
    const id = await create(admin.a, { name, host: "a", profile: "tiny-rbd" });
    const volume = `vm-${id}-0`;
    expect(rbdImages()).toContain(volume);
    const ip = await guestUp("a", id);
    expect(curlFrom("a", ip)).toContain("berth test guest");
    await until(() => ticks(consoleLines("a", id)).length >= 2, 30_000, "two ticks on a");

    const moved = await admin.a.call(
      "POST",
      `/v1/vms/${name}/migrate?wait=true`,
      { host: "b", live: true },
      180_000,
    );
    expect([moved.status, JSON.stringify(moved.body).slice(0, 400)]).toEqual([200, expect.any(String)]);
    expect((moved.body as { status: string }).status).toBe("succeeded");
    const lastOnA = Math.max(...ticks(consoleLines("a", id)));
    expect([domains("a"), domains("b", "--state-running")]).toEqual([[], [name]]);
    expect((await claimOf(name))?.host).toBe("b");
    // Shared storage: b opened the same image; no disk was copied into either pool, and the image was not deleted.
    expect([poolFiles("a"), poolFiles("b")]).toEqual([[], []]);
    expect(rbdImages()).toContain(volume);
    expect(run(["virsh", "-c", fleet.hosts.b.uri, "dumpxml", name])).toContain(
      `<source protocol='rbd' name='${ceph().pool}/${volume}'`,
    );
    // libvirt moved memory only: no disk was mirrored (a copy adds its bytes to the data total).
    const job = run(["virsh", "-c", fleet.hosts.b.uri, "domjobinfo", name, "--completed"]);
    const field = (k: string) => new RegExp(`^${k}:\\s+(.+)$`, "m").exec(job)?.[1]?.trim();
    expect(field("Data total")).toBe(field("Memory total"));
    const downtime = field("Total downtime");
    await until(() => ticks(consoleLines("b", id)).length >= 1, 30_000, "a tick on b");
    expect(consoleLines("b", id).some((l) => l.includes("BERTH-GUEST: boot"))).toBe(false);
    expect(Math.min(...ticks(consoleLines("b", id)))).toBe(lastOnA + 1);
    await moves.answersOn(fleet, "b", ip);
    console.info(
      `live migration on RBD (TCG): ${(moved.body as { result: { elapsed_ms: number } }).result.elapsed_ms} ms, downtime ${downtime?.replace(/\s+/g, " ")}`,
    );
    // Deleted on b, its image goes with it.
    expect((await admin.a.call("DELETE", `/v1/vms/${name}?wait=true`, undefined, 120_000)).status).toBe(200);
    expect(rbdImages()).not.toContain(volume);
  }, 360_000);
});

describe("a host that dies", () => {
  test("its VMs show unreachable; an admin recovers one on b from RBD; a back never runs it and keeps its disk", async () => {
    const name = vmName("rc");
    const id = await create(alice.a, {
      name,
      host: "a",
      profile: "tiny-rbd",
      tags: { team: "blue" },
      description: "recovered once",
    });
    // A VM with a config drive (a local ISO) cannot be recovered from RBD alone.
    const local = vmName("iso");
    await create(admin.a, {
      name: local,
      host: "a",
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
      start: false,
      ssh_keys: [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@recover",
      ],
    });
    // A VM b has no room for: b already holds a stopped one as large, and both exceed b's memory × 1.5.
    const capacityOfB = (await fleet.members()).b?.capacity as { memory_mib: number } | undefined;
    const hostMib = Number(capacityOfB?.memory_mib);
    expect(hostMib).toBeGreaterThan(0);
    const large = { cpus: 1, memory_mib: Math.floor(hostMib * 0.8), root_disk_gb: 1, start: false };
    const big = vmName("big");
    await create(admin.a, { name: big, host: "a", ...large });
    await create(admin.b, { name: vmName("ballast"), host: "b", ...large });
    const volume = `vm-${id}-0`;
    await guestUp("a", id);
    // Records are published every lease period: wait until a's is there, then a dies.
    await until(
      async () => (await fleet.etcd.client.get(`${fleet.prefix}/records/${name}`).string()) !== null,
      15_000,
      "a to publish the vm's record",
    );
    // While a is live: refused, nothing changed.
    const early = await admin.b.call("POST", `/v1/vms/${name}/recover`, { host: "b" });
    expect([early.status, (early.body as { error: { code: string } }).error.code]).toEqual([409, "conflict"]);
    expect((await alice.b.call("POST", `/v1/vms/${name}/recover`, { host: "b" })).status).toBe(403);

    const killedAt = Date.now();
    await fleet.killHost("a");
    // b lists it (for alice too, her own) as unreachable on a within seconds, and shows it alone.
    await until(
      async () => {
        const list = await alice.b.call("GET", "/v1/vms");
        return (list.body as { name: string; status: string; host: string }[]).some(
          (v) => v.name === name && v.status === "unreachable" && v.host === "a",
        );
      },
      20_000,
      "the vm to show unreachable on b",
    );
    const unreachableMs = Date.now() - killedAt;
    const one = await alice.b.call("GET", `/v1/vms/${name}`);
    expect([
      one.status,
      (one.body as { status: string }).status,
      (one.body as { host: string }).host,
    ]).toEqual([200, "unreachable", "a"]);
    expect((one.body as { id: string }).id).toBe(id);
    // Bob does not see alice's VM, unreachable or not.
    const bob = await new FleetClient(fleet.berths.b, "bob").login();
    expect((await bob.call("GET", `/v1/vms/${name}`)).status).toBe(404);
    expect(((await bob.call("GET", "/v1/vms")).body as { name: string }[]).map((v) => v.name)).not.toContain(
      name,
    );
    const filtered = await admin.b.call("GET", "/v1/vms?state=unreachable");
    expect((filtered.body as { name: string }[]).map((v) => v.name).sort()).toEqual(
      [big, local, name].sort(),
    );

    // No room on b: refused as capacity, nothing taken over.
    const full = await admin.b.call("POST", `/v1/vms/${big}/recover?wait=true`, { host: "b" });
    expect([full.status, (full.body as { error: { code: string } }).error.code]).toEqual([
      409,
      "capacity_exceeded",
    ]);
    expect((await claimOf(big))?.host).toBe("a");

    // Not RBD only: refused, naming the disk.
    const iso = await admin.b.call("POST", `/v1/vms/${local}/recover?wait=true`, { host: "b" });
    expect(iso.status).toBe(409);
    expect(JSON.stringify(iso.body)).toContain("cidata");

    const t0 = Date.now();
    const rec = await admin.b.call("POST", `/v1/vms/${name}/recover?wait=true`, { host: "b" }, 120_000);
    expect([rec.status, JSON.stringify(rec.body).slice(0, 400)]).toEqual([200, expect.any(String)]);
    expect(rec.body as { status: string; result: Record<string, unknown> }).toMatchObject({
      status: "succeeded",
      result: { name, host: "b", from: "a" },
    });
    const recoverMs = Date.now() - t0;
    expect(await claimOf(name)).toMatchObject({ host: "b", recovered_from: "a" });
    // a is fenced at Ceph: every client of its address is blocklisted.
    expect(ceph().admin("ceph", ["osd", "blocklist", "ls"])).toContain(`${fleet.hosts.a.ip}:0/0`);
    expect(domains("b", "--state-running")).toEqual([name]);
    // The record came along: owner (alice acts on it on b), id, the same RBD image.
    const shown = await alice.b.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.headers.get("x-berth-host")]).toEqual([200, null]);
    expect(shown.body).toMatchObject({ id, tags: { team: "blue" }, description: "recovered once", vcpus: 1 });
    expect(run(["virsh", "-c", fleet.hosts.b.uri, "dumpxml", name])).toContain(
      `<source protocol='rbd' name='${ceph().pool}/${volume}'`,
    );
    const ip = await guestUp("b", id);
    await moves.answersOn(fleet, "b", ip);
    const answeringMs = Date.now() - t0;

    // A second recovery, and a start, are refused.
    const again = await admin.b.call("POST", `/v1/vms/${name}/recover?wait=true`, { host: "b" });
    expect(again.status).toBe(409);
    expect((await alice.b.call("POST", `/v1/vms/${name}/start?wait=true`)).status).toBe(409);

    // a comes back: it never runs the VM, drops its definition and record, keeps the image, and lifts its fence.
    await fleet.reviveHost("a");
    await fleet.awaitMembers(["a", "b"]);
    await until(() => !domains("a").includes(name), 30_000, "a to drop its definition of the vm");
    await until(() => !vmRows("a").includes(name), 10_000, "a to drop its record of the vm");
    expect(domains("a", "--state-running")).toEqual([]);
    expect(rbdImages()).toContain(volume);
    // Lifted at Ceph first, then its record in etcd.
    await until(
      async () =>
        !ceph().admin("ceph", ["osd", "blocklist", "ls"]).includes(`${fleet.hosts.a.ip}:0/0`) &&
        (await fleet.etcd.client.get(`${fleet.prefix}/fences/a`).string()) === null,
      30_000,
      "a to lift its fence",
    );
    // The fleet's record of the recovered VM stays b's (a, back, never publishes it again).
    await Bun.sleep(fleet.leaseTtlS * 1000 + 500);
    const rec2 = await fleet.etcd.client.get(`${fleet.prefix}/records/${name}`).string();
    expect((JSON.parse(rec2 as string) as { host: string }).host).toBe("b");
    // The VM a still holds (not recovered) stays a's; through a, the recovered one is b's and running.
    expect(domains("a").sort()).toEqual([big, local].sort());
    expect((await claimOf(local))?.host).toBe("a");
    const adminA = await new FleetClient(fleet.berths.a, "admin").login();
    const viaA = await adminA.call("GET", `/v1/vms/${name}`);
    expect([viaA.status, viaA.headers.get("x-berth-host"), (viaA.body as { status: string }).status]).toEqual(
      [200, "b", "running"],
    );
    await moves.answersOn(fleet, "b", ip);
    // A host never starts a VM whose claim is another host's, even while it still has its record.
    const localKey = `${fleet.prefix}/names/${local}`;
    const ownClaim = (await fleet.etcd.client.get(localKey).string()) as string;
    await fleet.etcd.client.put(localKey).value(JSON.stringify({ host: "b", at: new Date().toISOString() }));
    const notHers = await adminA.call("POST", `/v1/vms/${local}/start?wait=true`);
    await fleet.etcd.client.put(localKey).value(ownClaim);
    expect([notHers.status, JSON.stringify(notHers.body)]).toEqual([
      409,
      expect.stringContaining("belongs to host b"),
    ]);
    expect(domains("a", "--state-running")).toEqual([]);
    console.info(
      `host death: unreachable after ${unreachableMs} ms; recover ${recoverMs} ms (operation ${(rec.body as { result: { elapsed_ms: number } }).result.elapsed_ms} ms); guest answering ${answeringMs} ms after the recover call`,
    );
    expect((await alice.b.call("DELETE", `/v1/vms/${name}?wait=true`, undefined, 120_000)).status).toBe(200);
    expect(rbdImages()).not.toContain(volume);
    for (const [c, vm] of [
      [adminA, local],
      [adminA, big],
      [admin.b, vmName("ballast")],
    ] as const)
      expect((await c.call("DELETE", `/v1/vms/${vm}?wait=true`, undefined, 120_000)).status).toBe(200);
  }, 600_000);
});
