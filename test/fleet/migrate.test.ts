// Migration between fleet hosts: offline moves the record, disks and claim; bad targets change nothing; kill -9 of the source mid-copy settles to one owner.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PVC_PORT } from "./support/berth-node.ts";
import { type FleetClient, fleetWithClients, loginAgain } from "./support/client.ts";
import * as moves from "./support/moves.ts";
import { run, until } from "./support/run.ts";
import { type Topology, USERS } from "./support/topology.ts";

let fleet: Topology;
let aliceA: FleetClient;
let aliceB: FleetClient;
let bobB: FleetClient;
let adminA: FleetClient;
let adminB: FleetClient;

const small = { cpus: 1, memory_mib: 32, root_disk_gb: 1, start: false };
const vmName = (tag: string) => `${tag}-${fleet.id}`;

beforeAll(async () => {
  ({
    fleet,
    clients: { aliceA, aliceB, bobB, adminA, adminB },
  } = await fleetWithClients());
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

type Host = moves.Host;
const domains = (host: Host, state?: string) => moves.domains(fleet, host, state);
const poolFiles = (host: Host) => moves.poolFiles(fleet, host);
const claimHost = (name: string) => moves.claimHost(fleet, name);
const rowsOf = (host: Host, table: "fleet_departures" | "fleet_arrivals") => moves.rowsOf(fleet, host, table);
const { consoleOf, ticks } = moves;

async function createOnA(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const r = await aliceA.call("POST", "/v1/vms?wait=true", { ...small, name, host: "a", ...extra });
  expect(r.status).toBe(200);
  return (r.body as { result: { id: string } }).result;
}

describe("offline migration", () => {
  test("moves the record, the disk and the claim; the owner's token works on b; a no longer holds it", async () => {
    const name = vmName("off");
    const { id } = await createOnA(name, { tags: { team: "blue" }, description: "moved once" });
    expect(domains("a")).toEqual([name]);
    expect(poolFiles("a")).toEqual([`vm-${id}-0.qcow2`]);
    const before = (await aliceA.call("GET", `/v1/vms/${name}`)).body as Record<string, unknown>;

    const moved = await aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host: "b" }, 120_000);
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect((moved.body as { kind: string; result: Record<string, unknown> }).result).toMatchObject({
      name,
      host: "b",
      live: false,
    });
    expect(domains("a")).toEqual([]);
    expect(domains("b")).toEqual([name]);
    expect(moves.markInstance(fleet, "b", name)).toBe(moves.instanceOf(fleet, "b"));
    expect(poolFiles("a")).toEqual([]);
    expect(poolFiles("b")).toEqual([`vm-${id}-0.qcow2`]);
    expect(await claimHost(name)).toBe("b");
    expect([rowsOf("a", "fleet_departures"), rowsOf("b", "fleet_arrivals")]).toEqual([[], []]);

    // Read through a: forwarded to b, the same record (id, owner, tags, description, disks, NICs).
    const shown = await aliceA.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.headers.get("x-berth-host")]).toEqual([200, "b"]);
    const after = shown.body as Record<string, unknown>;
    for (const k of ["id", "owner", "tags", "description", "disks", "nics", "vcpus", "memory_mib", "project"])
      expect({ k, v: after[k] }).toEqual({ k, v: before[k] });
    const list = await adminA.call("GET", "/v1/vms");
    expect((list.body as { name: string; host: string }[]).find((v) => v.name === name)?.host).toBe("b");

    // The owner's token on b acts on it there; another user's does not see it.
    expect((await bobB.call("GET", `/v1/vms/${name}`)).status).toBe(404);
    const started = await aliceB.call("POST", `/v1/vms/${name}/start?wait=true`);
    expect(started.status).toBe(200);
    expect(domains("b", "--state-running")).toEqual([name]);
    expect((await aliceB.call("POST", `/v1/vms/${name}/stop?wait=true`)).status).toBe(200);

    // And back again with a's token (forwarded to b, which runs the migration).
    const back = await aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host: "a" }, 120_000);
    expect([back.status, back.headers.get("x-berth-host")]).toEqual([200, "b"]);
    expect(domains("a")).toEqual([name]);
    expect(domains("b")).toEqual([]);
    expect(await claimHost(name)).toBe("a");
    expect((await aliceA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
    await until(async () => (await claimHost(name)) === null, 5000, "the delete to release the name");
  }, 180_000);

  test("to an unknown, a dead or the same host, or a running VM offline: refused, nothing changed", async () => {
    const name = vmName("ref");
    const { id } = await createOnA(name);
    const refused = async (body: Record<string, unknown>, status: number) => {
      const r = await aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, body);
      expect({ body, status: r.status }).toEqual({ body, status });
      expect(domains("a")).toEqual([name]);
      expect(domains("b")).toEqual([]);
      expect(poolFiles("a")).toEqual([`vm-${id}-0.qcow2`]);
      expect(await claimHost(name)).toBe("a");
    };
    await refused({ host: "nosuch" }, 400);
    await refused({ host: "c" }, 400); // an etcd member with no berth: not a host of the fleet
    await refused({ host: "a" }, 409);
    // A dead host: b stopped, its registration gone.
    await fleet.berths.b.stop();
    await fleet.awaitMembers(["a"]);
    await refused({ host: "b" }, 400);
    await fleet.berths.b.start();
    await fleet.awaitMembers(["a", "b"]);
    expect((await aliceA.call("POST", `/v1/vms/${name}/start?wait=true`)).status).toBe(200);
    await refused({ host: "b", live: false }, 409);
    // Saved (managed save): its memory image would not move, so it is refused too.
    run(["virsh", "-q", "-c", fleet.hosts.a.uri, "managedsave", name]);
    await refused({ host: "b" }, 409);
    expect((await aliceA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 120_000);

  test("kill -9 of the source while b pulls the disk: after its restart exactly one owner (a), nothing left on b", async () => {
    const name = vmName("k9");
    const { id } = await createOnA(name);
    moves.fillDiskOnA(fleet, id);
    const pulling = () => moves.stagedFiles(fleet, "b").some((f) => f.startsWith("arrival-"));
    await moves.startMigration(aliceA, name, "b");
    await until(pulling, 60_000, "b to start pulling the disk");
    fleet.berths.a.kill9();
    expect(await claimHost(name)).toBe("a");
    await fleet.berths.a.start();
    await loginAgain("a", aliceA, adminA);
    // a's settle (every 3 s) abandons the departure and b drops what it had.
    await until(
      async () => rowsOf("a", "fleet_departures").length === 0 && rowsOf("b", "fleet_arrivals").length === 0,
      30_000,
      "a to abandon the departure and b to drop the arrival",
    );
    expect(pulling()).toBe(false);
    // The flattened copy a staged for b went with the abandoned departure.
    expect([moves.stagedFiles(fleet, "a"), moves.stagedFiles(fleet, "b")]).toEqual([[], []]);
    expect(poolFiles("b")).toEqual([]);
    expect(domains("b")).toEqual([]);
    expect(await claimHost(name)).toBe("a");
    expect(domains("a")).toEqual([name]);
    const shown = await aliceA.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.headers.get("x-berth-host")]).toEqual([200, null]);
    // The VM still migrates afterwards: nothing half-done blocks it.
    const moved = await aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host: "b" }, 180_000);
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(domains("a")).toEqual([]);
    expect(domains("b")).toEqual([name]);
    expect(await claimHost(name)).toBe("b");
    expect((await aliceB.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 240_000);
});

describe("live migration", () => {
  const curlFrom = (host: Host, ip: string) => moves.curlFrom(fleet, host, ip);
  beforeAll(async () => {
    // Each host has the guest's kernel image and the guest network under the same names.
    await moves.tinyGuestEverywhere(adminA, adminB);
  }, 300_000);

  test("a running tiny guest keeps counting and answers HTTP from b, not rebooted", async () => {
    const name = vmName("live");
    const { id, ip } = await moves.runningGuestOnA(adminA, name);
    expect(curlFrom("a", ip)).toContain("berth test guest");
    await until(async () => ticks(await consoleOf(adminA, name)).length >= 2, 30_000, "two ticks on a");

    const moved = await adminA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host: "b" }, 180_000);
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect((moved.body as { result: { live: boolean } }).result.live).toBe(true);
    const lastOnA = Math.max(...ticks(moves.readConsole(fleet, "a", id)));
    expect(domains("a")).toEqual([]);
    expect(domains("b", "--state-running")).toEqual([name]);
    expect(await claimHost(name)).toBe("b");
    expect([rowsOf("a", "fleet_departures"), rowsOf("b", "fleet_arrivals")]).toEqual([[], []]);
    // Through a, the VM is b's and running; its console (b's log) continues the count and never shows a boot.
    expect(await moves.shownThrough(adminA, name)).toEqual([200, "b", "running"]);
    // The running domain is b's now: its mark names b's installation, or b's reconcile would pass it by.
    expect(moves.markInstance(fleet, "b", name)).toBe(moves.instanceOf(fleet, "b"));
    await until(async () => ticks(await consoleOf(adminA, name)).length >= 1, 30_000, "a tick on b");
    const onB = await consoleOf(adminA, name);
    expect(onB.some((l) => l.includes("BERTH-GUEST: boot"))).toBe(false);
    expect(Math.min(...ticks(onB))).toBe(lastOnA + 1);
    await moves.answersOn(fleet, "b", ip);
    expect(curlFrom("a", ip)).toBe("");
    console.info(
      `live migration of the tiny guest (TCG): ${(moved.body as { result: { elapsed_ms: number } }).result.elapsed_ms} ms`,
    );
    expect((await adminA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
    expect(domains("b")).toEqual([]);
    // The disk libvirt copied in is a volume b's pool knows: it went with the VM.
    expect([poolFiles("a"), poolFiles("b")]).toEqual([[], []]);
  }, 300_000);

  test("kill -9 of the source during a live migration: after its restart exactly one host owns and runs the guest", async () => {
    const name = vmName("lk9");
    const { ip } = await moves.runningGuestOnA(adminA, name);
    expect(curlFrom("a", ip)).toContain("berth test guest");
    await moves.inLivePart(adminA, await moves.startMigration(adminA, name, "b"));
    fleet.berths.a.kill9();
    await fleet.berths.a.start();
    await loginAgain("a", adminA, aliceA);
    // Settled: no departure or arrival left, the claim names the one host whose libvirt has the domain.
    await until(
      async () => rowsOf("a", "fleet_departures").length === 0 && rowsOf("b", "fleet_arrivals").length === 0,
      60_000,
      "both sides to settle",
    );
    const owner = (await claimHost(name)) as "a" | "b";
    const other = owner === "a" ? "b" : "a";
    console.info(`kill -9 mid live migration settled on host ${owner}`);
    expect(domains(owner, "--state-running")).toEqual([name]);
    expect(domains(other)).toEqual([]);
    const shown = await adminA.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.headers.get("x-berth-host") ?? "a"]).toEqual([200, owner]);
    await moves.answersOn(fleet, owner, ip);
    expect((await adminA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
    expect([domains("a"), domains("b")]).toEqual([[], []]);
  }, 300_000);
});

describe("PVC's move, migrate and unmigrate on the fleet", () => {
  const pvc = async (host: "a" | "b", path: string) => {
    const r = await fetch(`http://${fleet.hosts[host].ip}:${PVC_PORT}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`alice:${USERS.alice.password}`).toString("base64")}` },
      signal: AbortSignal.timeout(120_000),
    });
    return { status: r.status, message: ((await r.json()) as { message: string }).message };
  };

  test("migrate remembers the node it came from, unmigrate goes back, move forgets it", async () => {
    const name = vmName("pvc");
    await createOnA(name);
    const migrated = await pvc("a", `/vm/${name}/migrate?node=b`);
    expect(migrated).toEqual({ status: 200, message: `Migrated VM '${name}' to node 'b'.` });
    expect([domains("a"), domains("b"), await claimHost(name)]).toEqual([[], [name], "b"]);
    // Already migrated: refused without force, on the VM's new host.
    const again = await pvc("b", `/vm/${name}/migrate?node=a`);
    expect(again.status).not.toBe(200);
    expect(again.message).toContain("has been previously migrated");
    expect(await pvc("b", `/vm/${name}/unmigrate`)).toEqual({
      status: 200,
      message: `Unmigrated VM '${name}' to node 'a'.`,
    });
    expect([domains("a"), domains("b"), await claimHost(name)]).toEqual([[name], [], "a"]);
    expect((await pvc("a", `/vm/${name}/unmigrate`)).message).toContain("has not been previously migrated");
    // move is for good: nothing to unmigrate afterwards.
    expect((await pvc("a", `/vm/${name}/move?node=b`)).status).toBe(200);
    expect(await claimHost(name)).toBe("b");
    expect((await pvc("b", `/vm/${name}/unmigrate`)).message).toContain("has not been previously migrated");
    expect((await pvc("b", `/vm/${name}/move?node=nosuch`)).message).toContain(
      "Specified node 'nosuch' is invalid",
    );
    expect((await aliceB.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 180_000);
});
