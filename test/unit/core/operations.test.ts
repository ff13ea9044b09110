// Operations: lifecycle, progress, failure, cancel, per-target locks, bounded waits, recovery after a crash.
import type { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BerthEvent, EventBus } from "../../../src/core/events.ts";
import { Locks } from "../../../src/core/locks.ts";
import { type OpContext, Operations } from "../../../src/core/operations.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { AppError, Conflict, NotFound } from "../../../src/errors.ts";

interface Rig {
  db: Database;
  events: EventBus;
  locks: Locks;
  ops: Operations;
  seen: BerthEvent[];
}

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function rig(db: Database = openDatabase(":memory:")): Rig {
  open.push(db);
  const events = new EventBus();
  const locks = new Locks();
  const seen: BerthEvent[] = [];
  events.subscribe((e) => seen.push(e));
  return { db, events, locks, ops: new Operations(db, events, locks), seen };
}

/** An operation body that runs until the test lets it go. */
function gate<T = unknown>() {
  const d = Promise.withResolvers<T>();
  let ctx: OpContext | undefined;
  return {
    fn: (c: OpContext) => {
      ctx = c;
      return d.promise;
    },
    ctx: () => ctx as OpContext,
    finish: (v: T) => d.resolve(v),
    fail: (e: unknown) => d.reject(e),
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

test("start answers a running operation at once and runs the body only afterwards", async () => {
  const { ops } = rig();
  let ran = false;
  const op = ops.start("vm.create", "vm/web-1", async () => {
    ran = true;
    return { ok: true };
  });
  expect(ran).toBe(false);
  expect(op).toMatchObject({
    kind: "vm.create",
    target: "vm/web-1",
    status: "running",
    progress: 0,
    message: "",
    error: null,
    result: null,
    finished_at: null,
  });
  expect(op.id).toMatch(/^[0-9a-f-]{36}$/);
  const done = await ops.wait(op.id, 5);
  expect(ran).toBe(true);
  expect(done).toMatchObject({ status: "succeeded", progress: 1, result: { ok: true }, error: null });
  expect(done.finished_at).not.toBeNull();
});

test("a succeeded operation publishes started then succeeded, and undefined results are null", async () => {
  const { ops, seen } = rig();
  const op = ops.start("noop", "x/1", async () => undefined);
  const done = await ops.wait(op.id, 5);
  expect(done.result).toBeNull();
  expect(seen.map((e) => [e.type, e.target])).toEqual([
    ["operation.started", `operation/${op.id}`],
    ["operation.succeeded", `operation/${op.id}`],
  ]);
  expect(seen[0]?.data).toEqual({ kind: "noop", target: "x/1" });
});

test("progress is stored, clamped to 0..1 and published", async () => {
  const { ops, seen } = rig();
  const g = gate();
  const op = ops.start("image.import", "image/debian", g.fn);
  await Bun.sleep(0);
  g.ctx().progress(0.25, "downloading");
  expect(ops.get(op.id)).toMatchObject({ progress: 0.25, message: "downloading", status: "running" });
  g.ctx().progress(7);
  expect(ops.get(op.id).progress).toBe(1);
  g.ctx().progress(-3, "rewound");
  expect(ops.get(op.id)).toMatchObject({ progress: 0, message: "rewound" });
  const progress = seen.filter((e) => e.type === "operation.progress").map((e) => e.data.progress);
  expect(progress).toEqual([0.25, 1, 0]);
  g.finish("ok");
  expect((await ops.wait(op.id, 5)).status).toBe("succeeded");
});

test("the last progress step outlives the end: stored with it, for a succeeded and a failed operation", async () => {
  const { ops, db } = rig();
  const ok = ops.start("vm.snapshot", "vm/a", async (ctx) => {
    ctx.progress(0.5, "left out: cidata");
    return null;
  });
  const bad = ops.start("vm.snapshot", "vm/b", async (ctx) => {
    ctx.progress(0.4, "half-way");
    throw new Error("boom");
  });
  expect((await ops.wait(ok.id, 5)).message).toBe("left out: cidata");
  expect((await ops.wait(bad.id, 5)).message).toBe("half-way");
  await Bun.sleep(5); // the progress writes' own commit, which must change nothing now
  const row = (id: string) =>
    db.query("SELECT status, progress, message FROM operations WHERE id = ?").get(id);
  expect(row(ok.id)).toEqual({ status: "succeeded", progress: 1, message: "left out: cidata" });
  expect(row(bad.id)).toEqual({ status: "failed", progress: 0.4, message: "half-way" });
});

test("an AppError fails the operation with its code, message and status", async () => {
  const { ops, seen } = rig();
  const op = ops.start("vm.start", "vm/a", async () => {
    throw new AppError(502, "hypervisor_error", "libvirt said no");
  });
  const done = await ops.wait(op.id, 5);
  expect(done.status).toBe("failed");
  expect(done.error).toEqual({ code: "hypervisor_error", message: "libvirt said no", status: 502 });
  expect(done.result).toBeNull();
  expect(seen.at(-1)?.type).toBe("operation.failed");
  expect(seen.at(-1)?.data.error).toEqual(done.error);
});

test("any other error fails it as internal (500) with its message", async () => {
  const { ops } = rig();
  const op = ops.start("k", "x/1", async () => {
    throw new TypeError("undefined is not a function");
  });
  expect((await ops.wait(op.id, 5)).error).toEqual({
    code: "internal",
    message: "undefined is not a function",
    status: 500,
  });
});

test("a disk-full failure (SQLITE_FULL, or ENOSPC in a message) fails it as 507 insufficient_storage", async () => {
  const { ops } = rig();
  const full = ops.start("vm.create", "vm/a", async () => {
    throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  });
  expect((await ops.wait(full.id, 5)).error).toMatchObject({ code: "insufficient_storage", status: 507 });
  const nospc = ops.start("vm.create", "vm/b", async () => {
    throw new Error("write /var/lib/berth/pool/x: No space left on device");
  });
  expect((await ops.wait(nospc.id, 5)).error).toMatchObject({ code: "insufficient_storage", status: 507 });
});

test("an outcome the database cannot take is logged; the process goes on and the lock is released", async () => {
  const { ops, db, locks } = rig();
  const g = gate();
  const op = ops.start("vm.start", "vm/a", g.fn, { lock: true });
  await Bun.sleep(1);
  db.run("DROP TABLE operations"); // any write now fails, as it would on a full disk
  g.finish("done");
  await Bun.sleep(5);
  expect(locks.holder("vm/a")).toBeUndefined();
  expect(op.status).toBe("running");
});

test("cancel aborts the body's signal; the operation ends cancelled with a 409 error", async () => {
  const { ops, seen } = rig();
  let reason: unknown;
  const op = ops.start("image.import", "image/big", async (ctx) => {
    await new Promise((_, reject) =>
      ctx.signal.addEventListener("abort", () => {
        reason = ctx.signal.reason;
        reject(new Error("download aborted"));
      }),
    );
  });
  await Bun.sleep(0);
  expect(ops.cancel(op.id).status).toBe("running");
  const done = await ops.wait(op.id, 5);
  expect(done.status).toBe("cancelled");
  expect(done.error).toEqual({ code: "cancelled", message: `operation ${op.id} was cancelled`, status: 409 });
  expect(reason).toBeInstanceOf(AppError);
  expect(seen.at(-1)?.type).toBe("operation.cancelled");
});

test("a body that throws the abort reason ends cancelled too", async () => {
  const { ops } = rig();
  const op = ops.start("k", "x/1", async (ctx) => {
    while (!ctx.signal.aborted) await Bun.sleep(1);
    ctx.signal.throwIfAborted();
  });
  await Bun.sleep(0);
  ops.cancel(op.id);
  expect(await ops.wait(op.id, 5)).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
});

test("cancel of a finished operation changes nothing; of an unknown one is 404", async () => {
  const { ops } = rig();
  const op = ops.start("k", "x/1", async () => "done");
  await ops.wait(op.id, 5);
  expect(ops.cancel(op.id)).toMatchObject({ status: "succeeded", result: "done" });
  expect(ops.get(op.id).status).toBe("succeeded");
  expect(thrown(() => ops.cancel("nope"))).toBeInstanceOf(NotFound);
});

test("get and wait of an unknown operation are 404", async () => {
  const { ops } = rig();
  expect(thrown(() => ops.get("missing"))).toBeInstanceOf(NotFound);
  await expect(ops.wait("missing", 1)).rejects.toBeInstanceOf(NotFound);
});

test("a locked target refuses a second operation with 409 naming the first; nothing of it is recorded", async () => {
  const { ops, locks } = rig();
  const g = gate();
  const first = ops.start("vm.start", "vm/web-1", g.fn, { lock: true });
  expect(locks.holder("vm/web-1")).toBe(first.id);
  let ran = false;
  const e = thrown(() =>
    ops.start(
      "vm.stop",
      "vm/web-1",
      async () => {
        ran = true;
      },
      { lock: true },
    ),
  );
  expect(e).toBeInstanceOf(Conflict);
  expect((e as Conflict).message).toContain(first.id);
  expect((e as Conflict).message).toContain("vm.start");
  expect((e as Conflict).details).toEqual({ operation: first.id, kind: "vm.start" });
  expect(ops.list().map((o) => o.id)).toEqual([first.id]);
  // Another target and an unlocked operation on the same target both go ahead.
  const other = ops.start("vm.start", "vm/web-2", async () => 1, { lock: true });
  const unlocked = ops.start("vm.read", "vm/web-1", async () => 1);
  expect((await ops.wait(other.id, 5)).status).toBe("succeeded");
  expect((await ops.wait(unlocked.id, 5)).status).toBe("succeeded");
  await Bun.sleep(5);
  expect(ran).toBe(false);
  g.finish(null);
  await ops.wait(first.id, 5);
  expect(locks.holder("vm/web-1")).toBeUndefined();
  const third = ops.start("vm.stop", "vm/web-1", async () => 1, { lock: true });
  expect((await ops.wait(third.id, 5)).status).toBe("succeeded");
});

test("the lock is released when the operation fails or is cancelled", async () => {
  const { ops, locks } = rig();
  const failing = ops.start(
    "k",
    "vm/a",
    async () => {
      throw new Error("x");
    },
    { lock: true },
  );
  await ops.wait(failing.id, 5);
  expect(locks.holder("vm/a")).toBeUndefined();
  const g = gate();
  const cancelled = ops.start("k", "vm/a", g.fn, { lock: true });
  await Bun.sleep(0);
  ops.cancel(cancelled.id);
  g.fail(new Error("stopped"));
  expect((await ops.wait(cancelled.id, 5)).status).toBe("cancelled");
  expect(locks.holder("vm/a")).toBeUndefined();
});

test("a failed insert releases the lock it took", () => {
  const { ops, locks, db } = rig();
  db.close();
  open.splice(open.indexOf(db), 1);
  expect(() => ops.start("k", "vm/a", async () => 1, { lock: true })).toThrow();
  expect(locks.holder("vm/a")).toBeUndefined();
});

test("wait returns the running operation when its timeout passes, bounded and early", async () => {
  const { ops } = rig();
  const g = gate();
  const op = ops.start("k", "x/1", g.fn);
  let t0 = performance.now();
  expect((await ops.wait(op.id, 0.1)).status).toBe("running");
  const took = performance.now() - t0;
  expect(took).toBeGreaterThanOrEqual(90);
  expect(took).toBeLessThan(1000);
  // Zero and negative timeouts answer at once.
  for (const s of [0, -5]) {
    t0 = performance.now();
    expect((await ops.wait(op.id, s)).status).toBe("running");
    expect(performance.now() - t0).toBeLessThan(100);
  }
  // A long wait ends as soon as the operation does, for every waiter.
  t0 = performance.now();
  const waits = [ops.wait(op.id, 60), ops.wait(op.id, 60), ops.wait(op.id, 1)];
  setTimeout(() => g.finish("late"), 30);
  const results = await Promise.all(waits);
  expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  expect(performance.now() - t0).toBeLessThan(1000);
});

test("wait on a finished operation answers at once", async () => {
  const { ops } = rig();
  const op = ops.start("k", "x/1", async () => 1);
  await ops.wait(op.id, 5);
  const t0 = performance.now();
  expect((await ops.wait(op.id, 300)).status).toBe("succeeded");
  expect(performance.now() - t0).toBeLessThan(50);
});

test("list is newest first and filters by exact target, status and limit", async () => {
  const { ops } = rig();
  const a = ops.start("k", "vm/a", async () => 1);
  await ops.wait(a.id, 5);
  await Bun.sleep(2); // distinct created_at
  const g = gate();
  const b = ops.start("k", "vm/ab", g.fn);
  await Bun.sleep(2);
  const c = ops.start("k", "vm/a", async () => {
    throw new Error("no");
  });
  await ops.wait(c.id, 5);
  expect(ops.list().map((o) => o.id)).toEqual([c.id, b.id, a.id]);
  expect(ops.list({ target: "vm/a" }).map((o) => o.id)).toEqual([c.id, a.id]);
  expect(ops.list({ status: "running" }).map((o) => o.id)).toEqual([b.id]);
  expect(ops.list({ target: "vm/a", status: "failed" }).map((o) => o.id)).toEqual([c.id]);
  expect(ops.list({ limit: 1 }).map((o) => o.id)).toEqual([c.id]);
  expect(ops.list({ target: "vm/" })).toEqual([]);
  g.finish(1);
  await ops.wait(b.id, 5);
});

test("after a crash, operations left running are marked failed as interrupted; finished ones stay", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-ops-"));
  try {
    const before = rig(openDatabase(dir));
    const finished = before.ops.start("k", "vm/a", async () => "kept");
    await before.ops.wait(finished.id, 5);
    const stuck = before.ops.start("vm.create", "vm/b", () => new Promise(() => {}), { lock: true });
    // The "crash": the process goes away with the row still running.
    before.db.close();
    open.splice(open.indexOf(before.db), 1);

    const after = rig(openDatabase(dir));
    expect(after.ops.get(stuck.id).status).toBe("running");
    expect(after.ops.recoverInterrupted()).toBe(1);
    const op = after.ops.get(stuck.id);
    expect(op.status).toBe("failed");
    expect(op.error).toEqual({
      code: "interrupted",
      message: "berth stopped while this operation ran",
      status: 500,
    });
    expect(op.finished_at).not.toBeNull();
    expect(after.ops.get(finished.id)).toMatchObject({ status: "succeeded", result: "kept" });
    // Nobody waits on it forever, a new lock on its target is free, and a second recovery finds nothing.
    const t0 = performance.now();
    expect((await after.ops.wait(stuck.id, 300)).status).toBe("failed");
    expect(performance.now() - t0).toBeLessThan(50);
    expect(after.locks.holder("vm/b")).toBeUndefined();
    expect(after.ops.recoverInterrupted()).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an end the database cannot take (disk full) is still the answer of this process's waits and reads", async () => {
  const { db, ops } = rig();
  // What a full disk does to the UPDATE that records an operation's end.
  db.run(`CREATE TRIGGER full_disk BEFORE UPDATE OF status ON operations WHEN NEW.status != 'running'
          BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
  const op = ops.start("vm.create", "vm/full", async () => {
    throw new AppError(507, "insufficient_storage", "no room for vm full");
  });
  const done = await ops.wait(op.id, 5);
  expect(done.status).toBe("failed");
  expect(done.error).toEqual({ code: "insufficient_storage", message: "no room for vm full", status: 507 });
  expect(ops.get(op.id).status).toBe("failed");
  // The row itself still says running: the next start marks it interrupted.
  expect(
    (db.query("SELECT status FROM operations WHERE id = ?").get(op.id) as { status: string }).status,
  ).toBe("running");
});

test("an adopted operation (another thread runs it): its progress shows in reads, a wait ends at its end, a cancel is passed on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-adopt-"));
  try {
    const here = rig(openDatabase(dir));
    // The other thread's connection records and ends the operation; this one only hears of it.
    const there = rig(openDatabase(dir));
    const op = there.ops.start("vm.create", "vm/a", () => new Promise(() => {}), { id: "op-from-there" });
    expect(op.id).toBe("op-from-there");
    // Only the thread that runs it counts it as running.
    expect(there.ops.running()).toEqual([op.id]);
    expect(here.ops.running()).toEqual([]);
    let cancels = 0;
    const adopted = here.ops.adopt(op.id, () => cancels++);
    adopted.progress(0.5, "volume root");
    expect(here.ops.get(op.id)).toMatchObject({ status: "running", progress: 0.5, message: "volume root" });
    let waited: string | null = null;
    const wait = here.ops.wait(op.id, 30).then((o) => {
      waited = o.status;
    });
    await Bun.sleep(20);
    expect(waited).toBeNull();
    here.ops.cancel(op.id);
    expect(cancels).toBe(1);
    there.db.query("UPDATE operations SET status = 'succeeded', progress = 1 WHERE id = ?").run(op.id);
    adopted.ended();
    await wait;
    expect(waited as string | null).toBe("succeeded");
    // Ended: its progress is no longer laid over the row, and a cancel goes nowhere.
    expect(here.ops.get(op.id).progress).toBe(1);
    here.ops.cancel(op.id);
    expect(cancels).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
