// startPoolScheduler: applies declared pools, wakes on changes (not only on its timer), and publishes its decisions.

import { expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { BerthEvent } from "../../../src/core/events.ts";
import { checkout } from "../../../src/core/pools/checkout.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { passForLifecycle, tick } from "../../../src/core/pools/tick.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { startPoolScheduler } from "../../../src/scheduler/pools.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

test("a new pool fills without waiting for the timer; every decision is an event", async () => {
  const P = "upsc";
  const core = await poolCore(
    P,
    `[scheduler]\ninterval_s = 3600\n[[pools]]\nname = "${P}-declared"\nprofile = "${P}-tiny"\nsize = 0`,
  );
  const seen: BerthEvent[] = [];
  const off = core.events.subscribe((e) => {
    if (e.type.startsWith("pool.")) seen.push(e);
  });
  const scheduler = startPoolScheduler(core);
  try {
    expect(core.db.query("SELECT origin FROM pools WHERE name = ?").get(`${P}-declared`)).toEqual({
      origin: "config",
    });
    await scheduler.idle();
    createPool(core, SYSTEM, { name: `${P}-woken`, profile: `${P}-tiny`, size: 2 });
    const deadline = Date.now() + 20_000;
    while (
      listMembers(core.db, `${P}-woken`).filter((m) => m.status === "ready").length < 2 &&
      Date.now() < deadline
    ) {
      await Bun.sleep(20);
    }
    expect(listMembers(core.db, `${P}-woken`).map((m) => m.status)).toEqual(["ready", "ready"]);
    const types = seen.map((e) => e.type);
    expect(types.filter((t) => t === "pool.vm.creating").length).toBe(2);
    expect(types.filter((t) => t === "pool.vm.ready").length).toBe(2);
  } finally {
    off();
    await scheduler.stop();
    await cleanup(core);
    await core.close();
  }
});

test("a pass that checkouts alone woke only refills; the next full pass reviews the members", async () => {
  const P = "uprf";
  const core = await poolCore(P, "[scheduler]\ninterval_s = 3600");
  const scheduler = startPoolScheduler(core);
  const statusOf = (vm: string) => listMembers(core.db, P).find((m) => m.vm_name === vm)?.status;
  const untilTrue = async (ok: () => boolean, what: string) => {
    const deadline = Date.now() + 20_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(20);
    }
  };
  try {
    createPool(core, SYSTEM, { name: P, profile: `${P}-tiny`, size: 2 });
    const ready = () => listMembers(core.db, P).filter((m) => m.status === "ready").length;
    await untilTrue(() => ready() === 2, "the pool to fill");
    await scheduler.idle();
    const [first] = checkout(core, { [P]: 1 }).vms;
    if (!first) throw new Error("no VM checked out");
    // Expired behind the scheduler's back: no event says so, only a full pass's review finds it.
    core.db.run("UPDATE pool_vms SET expires_at = '2000-01-01T00:00:00.000Z' WHERE vm_name = ?", [
      first.name,
    ]);
    checkout(core, { [P]: 1 });
    await untilTrue(() => listMembers(core.db, P).length === 4, "two replacements");
    await scheduler.idle();
    expect(statusOf(first.name)).toBe("checked_out");
    scheduler.trigger("interval");
    await untilTrue(() => statusOf(first.name) !== "checked_out", "the expired VM to be drained");
    expect(["draining", undefined]).toContain(statusOf(first.name));
  } finally {
    await scheduler.stop();
    await cleanup(core);
    await core.close();
  }
});

test("a pass of scope changed reviews members in flux but not ready ones; a full pass does", async () => {
  const P = "upch";
  const core = await poolCore(P);
  try {
    createPool(core, SYSTEM, { name: P, profile: `${P}-tiny`, size: 2 });
    await fill(core, P, 2);
    checkout(core, { [P]: 1 });
    const out = listMembers(core.db, P).find((m) => m.status === "checked_out");
    const stale = listMembers(core.db, P).find((m) => m.status === "ready");
    if (!out || !stale) throw new Error("expected one checked-out and one ready member");
    // A checked-out VM's lifetime ended: a member in flux, found through the indexes …
    core.db.run("UPDATE pool_vms SET expires_at = '2000-01-01T00:00:00.000Z' WHERE vm_name = ?", [
      out.vm_name,
    ]);
    // … and a ready VM's recorded status changed with no event: only a full review notices.
    core.db.run("UPDATE vms SET status = 'stopped' WHERE name = ?", [stale.vm_name]);
    const changed = await tick(core, Date.now(), { scope: "changed" });
    expect(changed.drained).toEqual([out.vm_name]);
    const full = await tick(core, Date.now(), { scope: "full" });
    expect(full.drained).toEqual([stale.vm_name]);
  } finally {
    await cleanup(core);
    await core.close();
  }
});

test("a lifecycle event asks for a changed pass for a member in flux, a full one for a ready member or any other VM", async () => {
  const P = "uplc";
  const core = await poolCore(P);
  try {
    createPool(core, SYSTEM, { name: P, profile: `${P}-tiny`, size: 2 });
    await fill(core, P, 2);
    const [pending, ready] = listMembers(core.db, P);
    if (!pending || !ready) throw new Error("expected two members");
    core.db.run("UPDATE pool_vms SET status = 'pending' WHERE vm_name = ?", [pending.vm_name]);
    expect(passForLifecycle(core, pending.vm_name)).toBe("changed");
    core.db.run("UPDATE pool_vms SET status = 'draining' WHERE vm_name = ?", [pending.vm_name]);
    expect(passForLifecycle(core, pending.vm_name)).toBe("changed");
    expect(passForLifecycle(core, ready.vm_name)).toBe("full");
    expect(passForLifecycle(core, `${P}-not-a-member`)).toBe("full");
  } finally {
    await cleanup(core);
    await core.close();
  }
});
