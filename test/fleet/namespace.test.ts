// One namespace over the fleet: placement of creates, any host acting on any VM (identity forwarded), fleet-wide names and lists.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FleetClient, fleetWithClients } from "./support/client.ts";
import { run, until } from "./support/run.ts";
import type { Topology } from "./support/topology.ts";

let fleet: Topology;
let adminA: FleetClient;
let adminB: FleetClient;
let aliceA: FleetClient;
let bobA: FleetClient;

const small = { cpus: 1, memory_mib: 32, root_disk_gb: 1, start: false };
const vmName = (tag: string) => `${tag}-${fleet.id}`;

beforeAll(async () => {
  ({
    fleet,
    clients: { adminA, adminB, aliceA, bobA },
  } = await fleetWithClients());
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

/** The libvirt domains of one host, straight from its own libvirtd. */
function domains(host: "a" | "b", state = "--all"): string[] {
  return run(["virsh", "-q", "-c", fleet.hosts[host].uri, "list", state, "--name"])
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Waits until a host's registration counts `vms` VMs (placement reads the records). */
const recordShows = (host: "a" | "b", vms: number) =>
  until(
    async () => ((await fleet.members())[host] as { vms: number }).vms === vms,
    10_000,
    `${host} to count ${vms} VMs`,
  );

async function remove(client: FleetClient, name: string): Promise<void> {
  const r = await client.call("DELETE", `/v1/vms/${name}?wait=true`);
  expect(r.status).toBe(200);
}

describe("placement", () => {
  test("by name, and by selector: least allocated memory by default, fewest VMs", async () => {
    const create = (client: FleetClient, tag: string, extra: Record<string, unknown>) =>
      client.call("POST", "/v1/vms?wait=true", { ...small, name: vmName(tag), ...extra });
    const onA = await create(adminB, "pa", { host: "a", memory_mib: 128 });
    expect(onA.status).toBe(200);
    expect(onA.headers.get("x-berth-host")).toBe("a");
    expect(domains("a")).toEqual([vmName("pa")]);
    await recordShows("a", 1);
    // a holds 128 MiB, b nothing: the default (mem) picks b.
    expect((await create(adminA, "pm", { memory_mib: 16 })).status).toBe(200);
    expect(domains("b")).toEqual([vmName("pm")]);
    expect((await create(adminA, "pb", { host: "b", memory_mib: 16 })).status).toBe(200);
    await recordShows("b", 2);
    // Now a holds 1 VM and 128 MiB, b 2 VMs and 32 MiB: vms picks a, mem still b.
    expect((await create(adminB, "pv", { selector: "vms" })).status).toBe(200);
    expect(domains("a")).toContain(vmName("pv"));
    expect((await create(adminB, "pz", { selector: "mem" })).status).toBe(200);
    expect(domains("b")).toContain(vmName("pz"));
    expect((await create(adminA, "px", { host: "nosuch" })).status).toBe(400);
    for (const n of ["pa", "pm", "pb", "pv", "pz"]) await remove(adminA, vmName(n));
    expect(domains("a")).toEqual([]);
    expect(domains("b")).toEqual([]);
  }, 120_000);
});

describe("a client on host a acting on a vm of host b", () => {
  test("show, start, stop and delete go to b, as the caller", async () => {
    const name = vmName("fw");
    // Without ?wait: the operation runs on b, and its Location is followed through a.
    const made = await aliceA.call("POST", "/v1/vms", { ...small, name, host: "b" });
    expect(made.status).toBe(202);
    const location = made.headers.get("location") as string;
    expect(location).toMatch(/^\/v1\/operations\/[^/]+$/);
    const done = await aliceA.call("GET", `${location}/wait?timeout=60`, undefined, 70_000);
    expect([done.status, (done.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(done.headers.get("x-berth-host")).toBe("b");
    expect(domains("b")).toEqual([name]);
    const shown = await aliceA.call("GET", `/v1/vms/${name}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ name, status: "stopped" });
    expect(shown.headers.get("x-berth-host")).toBe("b");
    // Bob's token on a does not reach alice's VM on b: b checks the forwarded caller and hides it (404, as on one host).
    const bobs = await bobA.call("POST", `/v1/vms/${name}/start?wait=true`);
    expect([bobs.status, bobs.headers.get("x-berth-host")]).toEqual([404, "b"]);
    expect(domains("b", "--state-running")).toEqual([]);
    const started = await aliceA.call("POST", `/v1/vms/${name}/start?wait=true`);
    expect(started.status).toBe(200);
    expect(domains("b", "--state-running")).toEqual([name]);
    const stopped = await aliceA.call("POST", `/v1/vms/${name}/stop?wait=true`);
    expect(stopped.status).toBe(200);
    expect(domains("b", "--state-running")).toEqual([]);
    await remove(aliceA, name);
    expect(domains("b")).toEqual([]);
    expect((await aliceA.call("GET", `/v1/vms/${name}`)).status).toBe(404);
  }, 120_000);

  test("fleet headers from outside the fleet are refused", async () => {
    const r = await fetch(`${fleet.berths.b.api}/v1/vms`, {
      headers: {
        "x-berth-fleet-from": "a",
        "x-berth-fleet-caller": "admin",
        "x-berth-fleet-time": String(Date.now()),
        "x-berth-fleet-nonce": "00",
        "x-berth-fleet-signature": "0".repeat(64),
      },
      signal: AbortSignal.timeout(10_000),
    });
    expect(r.status).toBe(401);
  });
});

describe("fleet-wide names", () => {
  test("a name taken on one host is a 409 on the other, and free again after its delete", async () => {
    const name = vmName("dup");
    expect((await adminA.call("POST", "/v1/vms?wait=true", { ...small, name, host: "a" })).status).toBe(200);
    const again = await adminB.call("POST", "/v1/vms?wait=true", { ...small, name, host: "b" });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toContain("on host a");
    expect(domains("b")).toEqual([]);
    await remove(adminA, name);
    expect((await adminB.call("POST", "/v1/vms?wait=true", { ...small, name, host: "b" })).status).toBe(200);
    await remove(adminB, name);
  }, 120_000);

  test("a list on either host shows every VM with its host", async () => {
    const [x, y] = [vmName("la"), vmName("lb")];
    expect((await adminA.call("POST", "/v1/vms?wait=true", { ...small, name: x, host: "a" })).status).toBe(
      200,
    );
    expect((await adminA.call("POST", "/v1/vms?wait=true", { ...small, name: y, host: "b" })).status).toBe(
      200,
    );
    for (const c of [adminA, adminB]) {
      const list = await c.call("GET", "/v1/vms");
      expect(list.status).toBe(200);
      const hosts = Object.fromEntries(
        (list.body as { name: string; host: string }[]).map((v) => [v.name, v.host]),
      );
      expect(hosts).toEqual({ [x]: "a", [y]: "b" });
      // The list level and the page are fleet-wide too: names sorted over both hosts, one per page.
      const urls = await c.call("GET", "/v1/vms?recursion=0");
      expect(urls.body).toEqual([x, y].sort().map((n) => `/v1/vms/${n}`));
      const first = await c.call("GET", "/v1/vms?limit=1");
      const [a, b] = [x, y].sort() as [string, string];
      expect((first.body as { name: string }[]).map((v) => v.name)).toEqual([a]);
      expect(first.headers.get("link")).toContain(`after=${a}`);
      const second = await c.call("GET", `/v1/vms?limit=1&after=${a}`);
      expect((second.body as { name: string; host: string }[]).map((v) => [v.name, v.host])).toEqual([
        [b, b === x ? "a" : "b"],
      ]);
      const byPool = await c.call("GET", "/v1/vms?pool=nosuchpool");
      expect(byPool.body).toEqual([]);
    }
    await remove(adminB, x);
    await remove(adminA, y);
  }, 120_000);

  test("a claim a crash left without a VM is settled by its host's reconcile", async () => {
    const name = vmName("ghost");
    // What a berth killed between its claim and its record leaves: b's claim, no VM anywhere.
    const key = `${fleet.prefix}/names/${name}`;
    await fleet.etcd.client.put(key).value(JSON.stringify({ host: "b", at: new Date().toISOString() }));
    const refused = await adminA.call("POST", "/v1/vms?wait=true", { ...small, name, host: "a" });
    expect(refused.status).toBe(409);
    // Released after two lease periods (6 s) by b's settle, which runs every lease period (3 s).
    await until(
      async () => (await fleet.etcd.client.get(key).string()) === null,
      20_000,
      "b to release the claim",
    );
    expect((await adminA.call("POST", "/v1/vms?wait=true", { ...small, name, host: "a" })).status).toBe(200);
    expect(JSON.parse((await fleet.etcd.client.get(key).string()) as string).host).toBe("a");
    await remove(adminA, name);
    await until(
      async () => (await fleet.etcd.client.get(key).string()) === null,
      5000,
      "the delete to release the name",
    );
  }, 60_000);
});
