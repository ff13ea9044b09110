// Quotas across the fleet: a user's max_vms_per_user holds over every host at once, through migration and a host's death.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FleetClient } from "./support/client.ts";
import { run, until } from "./support/run.ts";
import { fleetUp, type Topology } from "./support/topology.ts";

const QUOTA = 3;
let fleet: Topology;
let aliceA: FleetClient;
let aliceB: FleetClient;

const small = { cpus: 1, memory_mib: 32, root_disk_gb: 1, start: false };
const vmName = (tag: string) => `${tag}-${fleet.id}`;

beforeAll(async () => {
  fleet = await fleetUp(3, { authToml: [`max_vms_per_user = ${QUOTA}`] });
  [aliceA, aliceB] = await Promise.all([
    new FleetClient(fleet.berths.a, "alice").login(),
    new FleetClient(fleet.berths.b, "alice").login(),
  ]);
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

function domains(host: "a" | "b"): string[] {
  return run(["virsh", "-q", "-c", fleet.hosts[host].uri, "list", "--all", "--name"])
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Alice's entries in the fleet's quota ledger (VM names), straight from etcd. */
async function ledger(): Promise<string[]> {
  const head = `${fleet.prefix}/quota/alice/`;
  const keys = await fleet.etcd.client.getAll().prefix(head).keys();
  return keys
    .map((k) => k.slice(head.length))
    .filter(Boolean)
    .sort();
}

const create = (client: FleetClient, name: string, host: "a" | "b") =>
  client.call("POST", "/v1/vms?wait=true", { ...small, name, host }, 120_000);

const code = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

describe("a user's quota over two hosts", () => {
  let made: { name: string; host: "a" | "b" }[] = [];

  test("concurrent creates on a and b up to and past the quota: exactly the quota succeeds", async () => {
    const asks = [1, 2, 3, 4].flatMap((i) => [
      { name: vmName(`qa${i}`), host: "a" as const, client: aliceA },
      { name: vmName(`qb${i}`), host: "b" as const, client: aliceB },
    ]);
    const answers = await Promise.all(asks.map((a) => create(a.client, a.name, a.host)));
    const outcomes = answers.map((r) => (r.status === 200 ? "made" : `${r.status} ${code(r.body)}`));
    made = asks.filter((_, i) => outcomes[i] === "made").map(({ name, host }) => ({ name, host }));
    expect(made.length).toBe(QUOTA);
    expect(outcomes.filter((o) => o !== "made")).toEqual(
      Array(asks.length - QUOTA).fill("403 quota_exceeded"),
    );
    expect([...domains("a"), ...domains("b")].sort()).toEqual(made.map((m) => m.name).sort());
    expect(await ledger()).toEqual(made.map((m) => m.name).sort());
    // Either host refuses one more, whichever holds her VMs.
    for (const [client, host] of [
      [aliceA, "a"],
      [aliceB, "b"],
    ] as const)
      expect(code((await create(client, vmName(`qx${host}`), host)).body)).toBe("quota_exceeded");
  }, 180_000);

  test("a migration moves the VM, not the usage: still at the quota, the ledger unchanged", async () => {
    const vm = made[0] as { name: string; host: "a" | "b" };
    const to = vm.host === "a" ? "b" : "a";
    const moved = await aliceA.call("POST", `/v1/vms/${vm.name}/migrate?wait=true`, { host: to }, 120_000);
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(domains(to)).toContain(vm.name);
    vm.host = to;
    expect(await ledger()).toEqual(made.map((m) => m.name).sort());
    expect(code((await create(aliceA, vmName("qm"), "a")).body)).toBe("quota_exceeded");
    // Two settle periods later nothing has drifted either.
    await Bun.sleep(2 * fleet.leaseTtlS * 1000 + 500);
    expect(await ledger()).toEqual(made.map((m) => m.name).sort());
  }, 180_000);

  test("a dead host's VMs keep counting; a delete frees room on the other host", async () => {
    // Which creates won the race decides where her VMs are: b must hold one for what follows.
    if (!made.some((m) => m.host === "b")) {
      const vm = made[0] as { name: string; host: "a" | "b" };
      const moved = await aliceA.call("POST", `/v1/vms/${vm.name}/migrate?wait=true`, { host: "b" }, 120_000);
      expect(moved.status).toBe(200);
      vm.host = "b";
    }
    const onB = made.filter((m) => m.host === "b");
    expect(onB.length).toBeGreaterThan(0);
    fleet.berths.b.kill9();
    await fleet.awaitMembers(["a"]);
    // b is gone from the fleet but its VMs (and their names) are not: alice is still at her quota on a.
    expect(code((await create(aliceA, vmName("qd"), "a")).body)).toBe("quota_exceeded");
    await fleet.berths.b.start();
    await fleet.awaitMembers(["a", "b"]);
    aliceB = await new FleetClient(fleet.berths.b, "alice").login();
    const gone = onB[0] as { name: string };
    expect((await aliceA.call("DELETE", `/v1/vms/${gone.name}?wait=true`)).status).toBe(200);
    made = made.filter((m) => m.name !== gone.name);
    // Released on the delete's event (well inside a settle period), not left for a settle to find.
    await until(
      async () => !(await ledger()).includes(gone.name),
      2_000,
      "the deleted VM's ledger entry to go",
    );
    const again = vmName("qn");
    expect((await create(aliceB, again, "a")).status).toBe(200);
    made.push({ name: again, host: "a" });
    expect(await ledger()).toEqual(made.map((m) => m.name).sort());
    for (const m of made)
      expect((await aliceA.call("DELETE", `/v1/vms/${m.name}?wait=true`)).status).toBe(200);
    await until(async () => (await ledger()).length === 0, 2_000, "alice's ledger to empty");
  }, 180_000);
});
