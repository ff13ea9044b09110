// Pool members created in their Worker (as berth serve makes them): on test:///default, with a database file
// both threads open. The HTTP thread holds each VM's lock, answers for its operation and hears its events.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { BerthEvent } from "../../../src/core/events.ts";
import { newId } from "../../../src/core/names.ts";
import { type MemberCreate, memberRequest } from "../../../src/core/pools/member-create.ts";
import { MemberWorker } from "../../../src/core/pools/member-worker.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { poolRecords } from "../../../src/core/pools/records.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { vmTarget } from "../../../src/core/vms/records.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { AppError } from "../../../src/errors.ts";
import { recordCalls } from "../../support/hv-calls.ts";
import { WORKERS } from "../../support/workers.ts";
import { cleanup, poolCore, settle } from "./pools-support.ts";

const P = `mw${process.pid}`;
const POOL = `${P}-pool`;

describe("pool members created in their Worker", () => {
  let dir: string;
  let core: Awaited<ReturnType<typeof poolCore>>;
  let members: MemberWorker;
  const events: BerthEvent[] = [];
  let calls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-members-"));
    core = await poolCore(P, "", dir);
    members = new MemberWorker(core, WORKERS, { idleMs: 300 });
    core.events.subscribe((e) => events.push(e));
    calls = recordCalls(core.hv);
    createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 3 });
  });

  afterAll(async () => {
    await members.stop();
    await cleanup(core);
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A member of POOL to create by hand, named `name`. */
  const member = (name: string, request = {}): MemberCreate => {
    const pool = poolRecords(core).find((p) => p.name === POOL);
    if (!pool) throw new Error("no pool");
    return {
      pool: POOL,
      generation: pool.generation,
      name,
      created_at: new Date().toISOString(),
      request: { ...memberRequest(pool, name), ...request },
      operation: newId(),
    };
  };

  test("the scheduler fills a pool through the Worker; the HTTP thread sees the operations and events and made no domain", async () => {
    for (let i = 0; i < 20; i++) {
      await tick(core, Date.now(), { create: members.create });
      await settle(core);
      if (listMembers(core.db, POOL).filter((m) => m.status === "ready").length === 3) break;
      // Readiness reads the state map, which hears of the Worker's starts through libvirt's events.
      await Bun.sleep(25);
    }
    const ready = listMembers(core.db, POOL).filter((m) => m.status === "ready");
    expect(ready).toHaveLength(3);
    for (const m of ready) {
      const ops = core.ops.list({ target: vmTarget(m.vm_name) });
      expect(ops.map((o) => [o.kind, o.status])).toEqual([["vm.create", "succeeded"]]);
      // The Worker's events reached this thread's bus.
      expect(events.some((e) => e.type === "vm.created" && e.target === vmTarget(m.vm_name))).toBe(true);
      expect(
        events.some((e) => e.type === "operation.succeeded" && e.target === `operation/${ops[0]?.id}`),
      ).toBe(true);
    }
    // The volumes, definitions and starts were the Worker's hypervisor calls, not this thread's.
    expect(
      calls.filter((c) => ["volume.createSpec", "domain.defineSpec", "domain.create"].includes(c)),
    ).toEqual([]);
  });

  test("the VM's lock is this thread's from the create's start to its operation's end, under the operation's id", async () => {
    const m = member(`${P}-locked`);
    const created = members.create(m);
    expect(core.locks.holder(vmTarget(m.name))).toBe(m.operation);
    await created;
    expect(core.ops.get(m.operation).kind).toBe("vm.create");
    const done = await core.ops.wait(m.operation, 30);
    expect(done.status).toBe("succeeded");
    expect(core.locks.holder(vmTarget(m.name))).toBeUndefined();
    expect(listMembers(core.db, POOL).find((x) => x.vm_name === m.name)?.vm_id).toBeString();
  });

  test("the Worker's thread, and the hypervisor Workers it starts, run at nice 10: requests get the CPU first", async () => {
    const m = member(`${P}-niced`);
    await members.create(m);
    expect(members.running).toBe(true);
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    const nices = readdirSync(`/proc/${process.pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
    expect(nices.filter((n) => n === 10).length).toBeGreaterThanOrEqual(2);
    expect(nices).toContain(0); // this thread's own
    expect((await core.ops.wait(m.operation, 30)).status).toBe("succeeded");
  });

  test("a create the Worker refuses rejects with its error, records nothing and lets the lock go", async () => {
    const m = member(`${P}-refused`, { profile: `${P}-no-such-profile` });
    const refused = await members.create(m).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).httpStatus).toBe(404);
    expect((refused as AppError).errorCode).toBe("not_found");
    expect((refused as AppError).message).toContain(`${P}-no-such-profile`);
    expect(core.locks.holder(vmTarget(m.name))).toBeUndefined();
    expect(listMembers(core.db, POOL).some((x) => x.vm_name === m.name)).toBe(false);
    expect(core.db.query("SELECT 1 FROM vms WHERE name = ?").get(m.name)).toBeNull();
  });

  test("an idle Worker stops; the next create starts another", async () => {
    const t0 = Date.now();
    while (members.running && Date.now() - t0 < 5000) await Bun.sleep(20);
    expect(members.running).toBe(false);
    const m = member(`${P}-after-idle`);
    await members.create(m);
    expect(members.running).toBe(true);
    expect((await core.ops.wait(m.operation, 30)).status).toBe("succeeded");
  });

  test("after a stop, a create is refused with 503 before anything is locked or recorded", async () => {
    await members.stop();
    expect(members.running).toBe(false);
    const m = member(`${P}-stopped`);
    const refused = await members.create(m).catch((e: unknown) => e);
    expect((refused as AppError).httpStatus).toBe(503);
    expect(core.locks.holder(vmTarget(m.name))).toBeUndefined();
    expect(core.db.query("SELECT 1 FROM vms WHERE name = ?").get(m.name)).toBeNull();
  });

  test("a stop waits for the creates under way to record their ends before the Worker closes its database", async () => {
    const other = new MemberWorker(core, WORKERS);
    const m = member(`${P}-cut-short`);
    await other.create(m);
    await other.stop();
    expect(["succeeded", "failed"]).toContain(core.ops.get(m.operation).status);
    expect(core.locks.holder(vmTarget(m.name))).toBeUndefined();
  });

  test("a Worker that fails outright: its unanswered create is refused, its running operation recorded failed, both locks freed", async () => {
    const dying = new MemberWorker(core, {
      ...WORKERS,
      members: new URL("./support/dying-members-worker.ts", import.meta.url).href,
    });
    try {
      const first = member(`${P}-orphaned`);
      await dying.create(first);
      expect(core.ops.get(first.operation).status).toBe("running");
      expect(core.locks.holder(vmTarget(first.name))).toBe(first.operation);
      const second = member(`${P}-unanswered`);
      const refused = await dying.create(second).catch((e: unknown) => e);
      expect((refused as AppError).httpStatus).toBe(500);
      expect((refused as AppError).message).toContain("the test Worker broke");
      const failed = core.ops.get(first.operation);
      expect(failed.status).toBe("failed");
      expect(failed.error?.message).toContain("the pool members' Worker failed");
      expect(
        events.some((e) => e.type === "operation.failed" && e.target === `operation/${first.operation}`),
      ).toBe(true);
      expect(core.locks.holder(vmTarget(first.name))).toBeUndefined();
      expect(core.locks.holder(vmTarget(second.name))).toBeUndefined();
      expect(dying.running).toBe(false);
    } finally {
      await dying.stop();
    }
  });
});
