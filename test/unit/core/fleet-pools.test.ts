// Fleet pools on one host: the pick over the fleet's stock, what a host publishes, and the single-host paths refusing fleet pools.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { openFleet } from "../../../src/core/fleet/fleet.ts";
import type { HostRecord } from "../../../src/core/fleet/members.ts";
import { pickStock, type Stock } from "../../../src/core/fleet/pools-checkout.ts";
import { parsePoolKey, readyKey, takenKey } from "../../../src/core/fleet/pools-keys.ts";
import { checkout, resolveRequest } from "../../../src/core/pools/checkout.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import {
  cancelRequest,
  createRequest,
  fulfillRequests,
  requestView,
} from "../../../src/core/pools/requests.ts";
import { fleetReadyMembers } from "../../../src/db/fleet-pools.ts";
import { Conflict } from "../../../src/errors.ts";
import { cleanup, fill, poolCore } from "./pools-support.ts";

const P = "ufpl";
let core: Awaited<ReturnType<typeof poolCore>>;
const fleetConfig = parseConfig(
  `[fleet]\netcd = ["http://127.0.0.1:1"]\nname = "a"\napi = "http://127.0.0.1:8470"\nsecret = "${"s".repeat(32)}"\nprefix = "/f"`,
  "t",
).fleet;
// etcd3 connects on the first call: these tests make none.
const fleet = await openFleet(fleetConfig);

beforeAll(async () => {
  core = await poolCore(P);
  createPool(core, SYSTEM, { name: `${P}-fl`, profile: `${P}-tiny`, size: 2, fleet: true });
  createPool(core, SYSTEM, { name: `${P}-lo`, profile: `${P}-tiny`, size: 1 });
  await fill(core, `${P}-fl`, 2);
  await fill(core, `${P}-lo`, 1);
});
afterAll(async () => {
  delete core.fleet;
  fleet?.close();
  await cleanup(core);
  await core.close();
});

const host = (name: string, load: number): HostRecord => ({
  name,
  api: `http://${name}:8470`,
  migration_address: name,
  version: "0.1.0",
  capacity: { cpus: 8, memory_mib: 16384 },
  allocation: { vcpus: 0, memory_mib: 0 },
  load,
  vms: 0,
  updated_at: "2026-01-01T00:00:00Z",
});

describe("the pick over the fleet's stock", () => {
  const live = new Map([
    ["a", host("a", 3)],
    ["b", host("b", 2)],
    ["c", host("c", 0.5)],
  ]);
  const s = (vm: string, h: string, readyAt: string): Stock => ({
    vm,
    pool: `${P}-fl`,
    host: h,
    readyAt,
    mod: "1",
  });
  const stock = [
    s("b1", "b", "2026-01-01T00:00:01Z"),
    s("c2", "c", "2026-01-01T00:00:05Z"),
    s("c1", "c", "2026-01-01T00:00:02Z"),
    s("a1", "a", "2026-01-01T00:00:09Z"),
  ];

  test("this host first, then the least loaded live host, each host's oldest first", () => {
    const wanted = resolveRequest(core, { [`${P}-fl`]: 3 });
    const { picks, short } = pickStock("a", wanted, stock, live);
    expect(short).toEqual([]);
    expect(picks.map((p) => p.vm)).toEqual(["a1", "c1", "c2"]);
    expect(pickStock("b", wanted, stock, live).picks.map((p) => p.vm)).toEqual(["b1", "c1", "c2"]);
  });

  test("too little stock over the fleet is short (nothing is taken), a VM is never picked twice", () => {
    const wanted = resolveRequest(core, { [`${P}-fl`]: 5 });
    const { picks, short } = pickStock("a", wanted, stock, live);
    expect(short).toEqual([{ pool: `${P}-fl`, requested: 5, ready: 4 }]);
    expect(new Set(picks.map((p) => p.vm)).size).toBe(picks.length);
  });
});

describe("one host's part", () => {
  test("it publishes its ready VMs of fleet pools only", () => {
    const ready = fleetReadyMembers(core.db);
    expect(ready.length).toBe(2);
    expect(new Set(ready.map((r) => r.pool))).toEqual(new Set([`${P}-fl`]));
  });

  test("keys: ready and taken per pool and VM, parsed back", () => {
    if (!fleet) throw new Error("no fleet");
    expect(readyKey(fleet, "p", "vm-1")).toBe("/f/pools/p/ready/vm-1");
    expect(parsePoolKey(fleet, takenKey(fleet, "p", "vm-1"))).toEqual({
      pool: "p",
      kind: "taken",
      vm: "vm-1",
    });
    expect(parsePoolKey(fleet, "/f/pools/p/other/vm-1")).toBeNull();
  });

  test("in a fleet, the single-host checkout refuses a fleet pool and its requests are left to the fleet; local pools are untouched", () => {
    if (!fleet) throw new Error("no fleet");
    core.fleet = fleet;
    try {
      expect(() => checkout(core, { [`${P}-fl`]: 1 })).toThrow(Conflict);
      // Recorded here, never handed out from this host's own stock: the fleet checkout fulfils it.
      const asked = createRequest(core, { [`${P}-fl`]: 1 });
      expect(asked.status).toBe("pending");
      expect(fulfillRequests(core, Date.now())).toEqual([]);
      expect(requestView(core, asked.id).status).toBe("pending");
      expect(cancelRequest(core, asked.id, null).status).toBe("cancelled");
      expect(() => createRequest(core, { [`${P}-fl`]: 1, [`${P}-lo`]: 1 })).toThrow(/are not fleet pools/);
      expect(() => createRequest(core, { [`${P}-fl`]: 61 })).toThrow(/at most 60 VMs/);
      expect(checkout(core, { [`${P}-lo`]: 1 }).vms.length).toBe(1);
    } finally {
      delete core.fleet;
    }
    // Without [fleet] the flag changes nothing: the pool is an ordinary one.
    expect(checkout(core, { [`${P}-fl`]: 1 }).vms.length).toBe(1);
  });
});
