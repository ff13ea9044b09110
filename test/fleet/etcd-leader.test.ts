// etcd losing its leader (kill -9) while creates run: the other two members elect another, and creates and name claims carry on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { type FleetClient, fleetWithClients } from "./support/client.ts";
import type { Topology } from "./support/topology.ts";

let fleet: Topology;
let a: FleetClient;
let b: FleetClient;

beforeAll(async () => {
  ({
    fleet,
    clients: { adminA: a, adminB: b },
  } = await fleetWithClients());
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

/** The index (in endpoints and pids) of the member that is leader now. */
async function leaderIndex(): Promise<number> {
  for (const [i, ep] of fleet.etcd.endpoints.entries()) {
    const one = new Etcd3({ hosts: [ep], dialTimeout: 2000 });
    try {
      const s = await one.maintenance.status();
      if (s.header.member_id === s.leader) return i;
    } finally {
      one.close();
    }
  }
  throw new Error("no etcd member says it is the leader");
}

test("creates during and after the etcd leader's kill -9 succeed, and names stay unique", async () => {
  const vm = (i: number) => ({ name: `e${i}-${fleet.id}`, cpus: 1, memory_mib: 16, start: false });
  const leader = await leaderIndex();
  const creates = [0, 1, 2, 3].map((i) =>
    (i % 2 === 0 ? a : b).call("POST", "/v1/vms?wait=true", vm(i), 60_000),
  );
  process.kill(fleet.etcd.pids[leader] as number, "SIGKILL");
  const answers = await Promise.all(creates);
  // A create that met etcd mid-election may answer 503 fleet_unavailable (nothing made); none may half-succeed.
  for (const r of answers) expect([200, 503]).toContain(r.status);
  const after = await Promise.all(
    [4, 5].map((i) => (i % 2 === 0 ? a : b).call("POST", "/v1/vms?wait=true", vm(i), 60_000)),
  );
  expect(after.map((r) => r.status)).toEqual([200, 200]);
  // The same name again, through the other host: refused by the claim the survivors hold.
  expect((await b.call("POST", "/v1/vms?wait=true", { ...vm(4), host: "b" })).status).toBe(409);
  const list = (await a.call("GET", "/v1/vms")).body as { name: string }[];
  const made = answers.flatMap((r, i) => (r.status === 200 ? [vm(i).name] : []));
  expect(list.map((v) => v.name).sort()).toEqual([...made, vm(4).name, vm(5).name].sort());
  for (const name of list.map((v) => v.name))
    expect((await a.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
}, 120_000);
