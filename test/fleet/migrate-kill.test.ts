// kill -9 of the destination berth mid-migration: afterwards exactly one host owns the VM, nothing is left behind, the VM works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FleetClient, fleetWithClients, loginAgain } from "./support/client.ts";
import {
  answersOn,
  claimHost,
  consoleOf,
  curlFrom,
  domains,
  fillDiskOnA,
  inLivePart,
  movesSettled,
  poolFiles,
  runningGuestOnA,
  shownThrough,
  stagedFiles,
  startMigration,
  ticks,
  tinyGuestEverywhere,
} from "./support/moves.ts";
import { until } from "./support/run.ts";
import type { Topology } from "./support/topology.ts";

let fleet: Topology;
let adminA: FleetClient;
let adminB: FleetClient;
let aliceA: FleetClient;
let aliceB: FleetClient;

beforeAll(async () => {
  ({
    fleet,
    clients: { adminA, adminB, aliceA, aliceB },
  } = await fleetWithClients());
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

const vmName = (tag: string) => `${tag}-${fleet.id}`;

/** Waits for the operation at `op` (asked of host a) to end; answers its status. */
async function ended(op: string): Promise<string> {
  let status = "";
  await until(
    async () => {
      status = ((await adminA.call("GET", op)).body as { status: string }).status;
      return status !== "running" && status !== "pending";
    },
    180_000,
    `operation ${op} to end`,
  );
  return status;
}

async function restartB(): Promise<void> {
  await fleet.berths.b.start();
  await fleet.awaitMembers(["a", "b"]);
  await loginAgain("b", adminB, aliceB);
}

describe("kill -9 of the destination", () => {
  test("while it pulls the disk (offline): the source aborts, b drops its arrival once back; a alone owns the VM", async () => {
    const name = vmName("dk9");
    const made = await aliceA.call("POST", "/v1/vms?wait=true", {
      name,
      host: "a",
      cpus: 1,
      memory_mib: 32,
      root_disk_gb: 1,
      start: false,
    });
    expect(made.status).toBe(200);
    const { id } = (made.body as { result: { id: string } }).result;
    fillDiskOnA(fleet, id);
    const op = await startMigration(aliceA, name, "b");
    await until(() => stagedFiles(fleet, "b").length > 0, 60_000, "b to start pulling the disk");
    fleet.berths.b.kill9();
    // The source's request to b broke: the migration failed there and the claim never moved.
    expect(await ended(op)).toBe("failed");
    expect(await claimHost(fleet, name)).toBe("a");
    await restartB();
    // b could not be told while it was down: once back it asks a, which no longer departs the VM, and drops.
    await movesSettled(fleet, 20_000);
    expect([stagedFiles(fleet, "a"), stagedFiles(fleet, "b")]).toEqual([[], []]);
    expect([poolFiles(fleet, "b"), domains(fleet, "b")]).toEqual([[], []]);
    expect([domains(fleet, "a"), poolFiles(fleet, "a")]).toEqual([[name], [`vm-${id}-0.qcow2`]]);
    expect(await claimHost(fleet, name)).toBe("a");
    const shown = await aliceB.call("GET", `/v1/vms/${name}`);
    expect([shown.status, shown.headers.get("x-berth-host")]).toEqual([200, "a"]);
    // Usable: it migrates afterwards, and b's copy is the one left.
    const moved = await aliceB.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host: "b" }, 180_000);
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect([domains(fleet, "a"), domains(fleet, "b"), await claimHost(fleet, name)]).toEqual([
      [],
      [name],
      "b",
    ]);
    expect((await aliceB.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
    expect([poolFiles(fleet, "a"), poolFiles(fleet, "b")]).toEqual([[], []]);
  }, 300_000);

  test("during a live migration: libvirt finishes it, b commits the arrival once back; the guest runs on b alone, not rebooted", async () => {
    await tinyGuestEverywhere(adminA, adminB);
    const name = vmName("dl9");
    const { ip } = await runningGuestOnA(adminA, name);
    expect(curlFrom(fleet, "a", ip)).toContain("berth test guest");
    const op = await startMigration(adminA, name, "b");
    await inLivePart(adminA, op);
    fleet.berths.b.kill9();
    // b's libvirtd, not its berth, takes the guest: the source hands the name over and finishes.
    expect(await ended(op)).toBe("succeeded");
    expect(await claimHost(fleet, name)).toBe("b");
    await restartB();
    await movesSettled(fleet, 20_000);
    expect([domains(fleet, "a"), domains(fleet, "b", "--state-running")]).toEqual([[], [name]]);
    expect([stagedFiles(fleet, "a"), stagedFiles(fleet, "b")]).toEqual([[], []]);
    expect(await shownThrough(adminA, name)).toEqual([200, "b", "running"]);
    await answersOn(fleet, "b", ip);
    expect(curlFrom(fleet, "a", ip)).toBe("");
    await until(async () => ticks(await consoleOf(adminA, name)).length >= 1, 30_000, "a tick on b");
    expect((await consoleOf(adminA, name)).some((l) => l.includes("BERTH-GUEST: boot"))).toBe(false);
    // b's berth acts on it: a stop and a start through a, forwarded.
    expect((await adminA.call("POST", `/v1/vms/${name}/stop?wait=true`)).status).toBe(200);
    expect(domains(fleet, "b", "--state-running")).toEqual([]);
    expect((await adminA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
    expect([domains(fleet, "a"), domains(fleet, "b")]).toEqual([[], []]);
    expect([poolFiles(fleet, "a"), poolFiles(fleet, "b")]).toEqual([[], []]);
  }, 300_000);
});
