// Group commit: one transaction per tick, a savepoint per unit, nothing settled before the commit, crash cases.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { DatabaseBusy } from "../../../src/errors.ts";

let dir: string;
let db: Database;
let other: Database;
const file = () => join(dir, "g.db");
const names = (d: Database) =>
  (d.query("SELECT name FROM t ORDER BY rowid").all() as { name: string }[]).map((r) => r.name);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "berth-gc-"));
  db = new Database(file(), { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE t (name TEXT UNIQUE NOT NULL)");
  // A second connection sees only what was committed.
  other = new Database(file(), { strict: true });
});
afterEach(() => {
  other.close();
  db.close();
});

const insert = (name: string) => () => {
  db.run("INSERT INTO t (name) VALUES (?)", [name]);
  return name;
};

test("units submitted in one tick share one transaction, in order", async () => {
  const g = new GroupCommit(db);
  const got = await Promise.all(["a", "b", "c", "d"].map((n) => g.run(insert(n))));
  expect(got).toEqual(["a", "b", "c", "d"]);
  expect(g.commits).toBe(1);
  expect(names(other)).toEqual(["a", "b", "c", "d"]);
  // The next tick gets a transaction of its own.
  await g.run(insert("e"));
  expect(g.commits).toBe(2);
});

test("a failing unit is undone to its savepoint; the others of its batch are committed", async () => {
  const g = new GroupCommit(db);
  const failing = () => {
    db.run("INSERT INTO t (name) VALUES ('half')"); // done, then undone with the unit
    db.run("INSERT INTO t (name) VALUES ('a')"); // UNIQUE: a is taken earlier in the batch
  };
  const results = await Promise.allSettled([g.run(insert("a")), g.run(failing), g.run(insert("c"))]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(String((results[1] as PromiseRejectedResult).reason)).toContain("UNIQUE");
  expect(g.commits).toBe(1);
  expect(names(other)).toEqual(["a", "c"]);
});

test("nothing is answered before the transaction holding it is committed", async () => {
  const g = new GroupCommit(db);
  const seen: { inTx: boolean; committed: string[] }[] = [];
  const answered = (name: string) =>
    g.run(insert(name)).then(
      () => void seen.push({ inTx: db.inTransaction, committed: names(other) }),
      () => void seen.push({ inTx: db.inTransaction, committed: names(other) }),
    );
  const failing = g.run(() => {
    throw new Error("no");
  });
  await Promise.all([
    answered("a"),
    answered("b"),
    failing.catch(() => seen.push({ inTx: db.inTransaction, committed: names(other) })),
  ]);
  expect(seen.length).toBe(3);
  for (const s of seen) {
    expect(s.inTx).toBe(false);
    expect(s.committed).toEqual(["a", "b"]);
  }
});

test("a commit that fails rejects every unit of its batch, and none of it is kept", async () => {
  const g = new GroupCommit(db);
  // A deferred foreign key is checked at COMMIT: the COMMIT itself fails.
  db.run("PRAGMA foreign_keys = ON");
  db.run("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  db.run("CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)");
  const orphan = () => db.run("INSERT INTO child (p) VALUES (42)");
  const results = await Promise.allSettled([g.run(insert("a")), g.run(orphan)]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect(db.inTransaction).toBe(false);
  expect(names(other)).toEqual([]);
  // The next batch is unaffected.
  expect(await g.run(insert("b"))).toBe("b");
  expect(names(other)).toEqual(["b"]);
});

test("a unit that ends the whole transaction (as SQLITE_FULL does): earlier units reject, later ones commit next", async () => {
  const g = new GroupCommit(db);
  // What SQLite does on some I/O and disk-full errors: the transaction is gone, savepoints with it.
  const ender = () => db.run("ROLLBACK");
  const results = await Promise.allSettled([g.run(insert("a")), g.run(ender), g.run(insert("c"))]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  expect(String((results[0] as PromiseRejectedResult).reason)).toContain("rolled back");
  expect(names(other)).toEqual(["c"]);
  expect(g.commits).toBe(1);
});

test("work that is not synchronous is refused (a transaction never spans an await)", async () => {
  const g = new GroupCommit(db);
  const r = await Promise.allSettled([g.run(async () => 1), g.run(insert("a"))]);
  expect(r[0]?.status).toBe("rejected");
  expect(r[1]?.status).toBe("fulfilled");
});

test("more than maxBatch units are split over several transactions, none lost", async () => {
  const g = new GroupCommit(db, { maxBatch: 3 });
  const all = Array.from({ length: 10 }, (_, i) => `n${i}`);
  expect(await Promise.all(all.map((n) => g.run(insert(n))))).toEqual(all);
  expect(g.commits).toBe(4);
  expect(names(other)).toEqual(all);
});

test("a batch ends once its units took maxBatchMs of the thread; the rest commit on later turns, in order", async () => {
  const g = new GroupCommit(db, { maxBatchMs: 5 });
  const slow = (name: string) => () => {
    const until = performance.now() + 2;
    while (performance.now() < until) {} // 2 ms of this thread
    return insert(name)();
  };
  const all = Array.from({ length: 9 }, (_, i) => `s${i}`);
  const turns: number[] = [];
  let turn = 0;
  const ticking = setInterval(() => turn++, 0);
  const done = all.map((n) =>
    g.run(slow(n)).then((v) => {
      turns.push(turn);
      return v;
    }),
  );
  expect(await Promise.all(done)).toEqual(all);
  clearInterval(ticking);
  // 18 ms of units in batches of at most ~5 ms + one unit: at least three transactions (one without the
  // bound), and timers ran between them.
  expect(g.commits).toBeGreaterThanOrEqual(3);
  expect(new Set(turns).size).toBeGreaterThan(1);
  expect(names(other)).toEqual(all);
});

/** A unit that holds this thread for `ms`, then inserts `name` and notes which transaction it ran in. */
const busy = (g: GroupCommit, name: string, ms: number, log: { name: string; tx: number }[]) => () => {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
  log.push({ name, tx: g.commits });
  return insert(name)();
};

test("a request's unit goes ahead of queued background units, in a transaction of its own", async () => {
  const g = new GroupCommit(db, { backgroundMs: 1 });
  const log: { name: string; tx: number }[] = [];
  const background = Array.from({ length: 20 }, (_, i) =>
    g.run(busy(g, `bg${i}`, 0.3, log), { background: true }),
  );
  const request = g.run(busy(g, "req", 0, log));
  await Promise.all([...background, request]);
  // Queued last, applied first; no background unit shares its transaction.
  expect(log[0]?.name).toBe("req");
  expect(log.filter((l) => l.tx === log[0]?.tx).map((l) => l.name)).toEqual(["req"]);
  // The background lane kept its order, in transactions bounded by backgroundMs (20 × 0.3 ms: several).
  const bg = log.filter((l) => l.name !== "req").map((l) => l.name);
  expect(bg).toEqual(Array.from({ length: 20 }, (_, i) => `bg${i}`));
  expect(new Set(log.filter((l) => l.name !== "req").map((l) => l.tx)).size).toBeGreaterThanOrEqual(3);
  expect(names(other)).toHaveLength(21);
});

test("a steady stream of requests does not starve the background lane: the lanes take turns", async () => {
  const g = new GroupCommit(db, { backgroundMs: 1 });
  const log: { name: string; tx: number }[] = [];
  const background = Array.from({ length: 6 }, (_, i) =>
    g.run(busy(g, `bg${i}`, 0.6, log), { background: true }),
  );
  // Each request queues the next one as it is answered: there is always a request waiting.
  let n = 0;
  const chain = async (): Promise<void> => {
    while (n < 40) await g.run(busy(g, `req${n++}`, 0, log));
  };
  await Promise.all([...background, chain()]);
  const lastBg = log.findLastIndex((l) => l.name.startsWith("bg"));
  const lastReq = log.findLastIndex((l) => l.name.startsWith("req"));
  // Every background unit was applied while requests were still coming.
  expect(lastBg).toBeLessThan(lastReq);
  expect(names(other)).toHaveLength(46);
});

test("a BEGIN refused because another connection holds the write lock waits off the thread, then commits", async () => {
  db.run("PRAGMA busy_timeout = 2000");
  const g = new GroupCommit(db);
  other.run("BEGIN IMMEDIATE"); // the write lock, as the WAL checkpointer's TRUNCATE holds it
  let ticks = 0;
  const ticking = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  const done = g.run(insert("a"));
  await Bun.sleep(60);
  // Nothing committed yet, and the event loop kept turning (a 2 s busy_timeout would have held it).
  expect(names(db)).toEqual([]);
  expect(ticks).toBeGreaterThan(3);
  other.run("COMMIT");
  expect(await done).toBe("a");
  clearInterval(ticking);
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(names(other)).toEqual(["a"]);
  // The connection's own wait is back for its other statements.
  expect((db.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout).toBe(2000);
});

test("a write lock held past busyWaitMs: the units reject with 503 database_busy, later ones commit", async () => {
  const g = new GroupCommit(db, { busyWaitMs: 50 });
  other.run("BEGIN IMMEDIATE");
  const refused = await g.run(insert("a")).then(
    () => null,
    (e: unknown) => e,
  );
  other.run("COMMIT");
  expect(refused).toBeInstanceOf(DatabaseBusy);
  expect((refused as DatabaseBusy).httpStatus).toBe(503);
  expect((refused as DatabaseBusy).errorCode).toBe("database_busy");
  expect(await g.run(insert("b"))).toBe("b");
  expect(names(other)).toEqual(["b"]);
});

test("close applies what is queued, then refuses", async () => {
  const g = new GroupCommit(db);
  const a = g.run(insert("a"));
  g.close();
  expect(names(other)).toEqual(["a"]);
  expect(await a).toBe("a");
  await expect(g.run(insert("b"))).rejects.toThrow("closing");
});

const child = new URL("./group-commit-child.ts", import.meta.url).pathname;

function crash(when: string): { stdout: string; signal: string | null } {
  const r = Bun.spawnSync(["bun", child, file(), when], { stdout: "pipe", stderr: "pipe" });
  return { stdout: r.stdout.toString(), signal: r.signalCode ? String(r.signalCode) : null };
}

test("a crash before the COMMIT: nothing answered, nothing kept", () => {
  const r = crash("before-commit");
  expect(r.signal).toBe("SIGKILL");
  expect(r.stdout).toBe("");
  expect(names(other)).toEqual([]);
});

test("a crash right after an answer: what was answered is in the database", () => {
  const r = crash("after-answer");
  expect(r.signal).toBe("SIGKILL");
  expect(r.stdout).toBe("answered a\n");
  expect(names(other)).toEqual(["a", "b"]);
});
