// reconcile at scale on the test driver: same verdicts with hundreds of domains, bulk libvirt calls, the HTTP thread free.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Core } from "../../../src/core/context.ts";
import { reconcile } from "../../../src/core/reconcile/reconcile.ts";
import { vmStates } from "../../../src/core/vms/state-map.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { createApp } from "../../../src/routes/app.ts";
import { startBerth } from "../../../src/server.ts";
import { BERTH_NS, BERTH_NS_KEY, buildDomainXml } from "../../../src/xml/domain.ts";
import { berthMetadataXml } from "../../../src/xml/user-domain.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { WORKERS } from "../../support/workers.ts";

// test:///default is shared by every connection in this process: these domains are named rs-*, and every
// pass here looks only at the names this file defined.
const N = 600; // more than a page of rows (256) and a call's worth of mark reads (256)
const ORPHANS = 100;
const GONE = 50;
const name = (i: number) => `rs-${String(i).padStart(4, "0")}`;
const id = (i: number) => `rs-id-${i}`;
const ours = new Set(Array.from({ length: N + GONE }, (_, i) => name(i)));
const only = (n: string) => ours.has(n);

let core: Awaited<ReturnType<typeof testCore>>;

beforeAll(async () => {
  core = await testCore(testConfig('[storage]\npool = "default-pool"'));
  for (let i = 0; i < N; i++) {
    await core.hv.call("domain.define", {
      xml: buildDomainXml({
        name: name(i),
        type: "qemu",
        vcpus: 1,
        memoryMiB: 64,
        boot: { kind: "disk" },
        disks: [],
        nics: [],
        berthId: id(i),
      }),
    });
  }
});

afterAll(async () => {
  for (let i = 0; i < N; i++) await core.hv.call("domain.undefine", { name: name(i) }).catch(() => undefined);
  await core.close();
});

/** Rows of `db`: the first N - ORPHANS domains have one (stopped: in step; running or paused: to sync), and GONE more have none. */
function seedRows(db: Core["db"], at = new Date(Date.now() - 60_000).toISOString()): void {
  db.run("DELETE FROM vms");
  const insert = db.query(
    `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
     VALUES (?, ?, ?, 1, 64, '{"mode":"disk"}', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < N - ORPHANS; i++)
      insert.run(id(i), name(i), ["stopped", "running", "paused"][i % 3] as string, at, at);
    for (let i = N; i < N + GONE; i++) insert.run(id(i), name(i), "running", at, at);
  })();
}

/** Counts the hypervisor calls made through `hv` while `fn` runs (the real calls, through the real client). */
async function countingCalls<T>(
  hv: Core["hv"],
  fn: () => Promise<T>,
): Promise<{ result: T; calls: Record<string, number> }> {
  const calls: Record<string, number> = {};
  const real = hv.call;
  hv.call = ((op: string, ...rest: unknown[]) => {
    calls[op] = (calls[op] ?? 0) + 1;
    return (real as (...a: unknown[]) => unknown).call(hv, op, ...rest);
  }) as typeof real;
  try {
    return { result: await fn(), calls };
  } finally {
    hv.call = real;
  }
}

test("hundreds of domains: every row and orphan judged as the rules say, in name order", async () => {
  seedRows(core.db);
  const r = await reconcile(core, { domains: only });
  expect(r.errors).toEqual([]);
  expect(r.checked).toEqual({ vms: N - ORPHANS + GONE, domains: N });
  const toSync = Array.from({ length: N - ORPHANS }, (_, i) => i).filter((i) => i % 3 !== 0);
  expect(r.synced).toEqual(
    toSync.map((i) => ({ name: name(i), from: i % 3 === 1 ? "running" : "paused", to: "stopped" })),
  );
  expect(r.gone).toEqual(Array.from({ length: GONE }, (_, i) => name(N + i)));
  expect(r.orphans).toEqual(
    Array.from({ length: ORPHANS }, (_, i) => ({
      id: id(N - ORPHANS + i),
      domain: name(N - ORPHANS + i),
      action: "reported",
    })),
  );
  const statuses = core.db
    .query("SELECT status, count(*) AS n FROM vms GROUP BY status ORDER BY status")
    .all();
  expect(statuses).toEqual([
    { status: "gone", n: GONE },
    { status: "stopped", n: N - ORPHANS },
  ]);
  // In step now: a second pass changes nothing.
  const again = await reconcile(core, { domains: only });
  expect([again.synced, again.gone, again.errors]).toEqual([[], [], []]);
});

test("libvirt is read in bulk: one stats call a pass, berth's marks only for domains not seen before", async () => {
  seedRows(core.db);
  // A client of its own, whose mark cache starts empty.
  const fresh = await testCore({ ...core.config });
  const on = { ...core, hv: fresh.hv };
  try {
    const first = await countingCalls(fresh.hv, () => reconcile(on, { domains: only }));
    expect(first.result.errors).toEqual([]);
    expect(first.calls["domain.scan"]).toBe(1);
    expect(first.calls["domain.list"]).toBeUndefined();
    // Every domain's mark is read once, 256 to a call; gone rows are each confirmed by reading their name.
    const listed = (await fresh.hv.call("domain.scan", { metadataUri: "x", known: "", maxReads: 0 })).states;
    expect(first.calls["domain.marks"]).toBe(Math.ceil((listed.length - 256) / 256));
    expect(first.calls["domain.getMetadata"]).toBe(GONE);
    const second = await countingCalls(fresh.hv, () => reconcile(on, { domains: only }));
    expect(second.result.synced).toEqual([]);
    expect(second.calls).toEqual({ "domain.scan": 1 });
  } finally {
    await fresh.close();
  }
});

test("/healthz answers while a pass is walking the rows", async () => {
  seedRows(core.db);
  const app = createApp(core);
  const total = Math.floor(((N - ORPHANS) * 2) / 3);
  let synced = 0;
  const answer = { status: 0, syncedBefore: -1 };
  let asked = false;
  const off = core.events.subscribe((e) => {
    if (e.type !== "vm.synced") return;
    synced++;
    if (asked) return;
    asked = true;
    void app.handle(new Request("http://localhost/healthz")).then((res) => {
      answer.status = res.status;
      answer.syncedBefore = synced;
    });
  });
  try {
    const r = await reconcile(core, { domains: only });
    expect(r.synced.length).toBe(total);
    while (answer.syncedBefore < 0) await Bun.sleep(5);
    // Answered (200) before the pass had synced every row: the pass let the event loop run.
    expect(answer.status).toBe(200);
    expect(answer.syncedBefore).toBeLessThan(total);
  } finally {
    off();
  }
});

test("berth is healthy before its first pass ends, and the pass still converges afterwards", async () => {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  const config = testConfig(
    `listen = "127.0.0.1:${port}"\n[demo]\nenabled = false\n[storage]\npool = "default-pool"`,
  );
  const db = openDatabase(config.data_dir);
  seedRows(db);
  db.close();
  const berth = await startBerth(config, WORKERS);
  try {
    const toSync = () =>
      (
        berth.core.db.query("SELECT count(*) AS n FROM vms WHERE status IN ('running', 'paused')").get() as {
          n: number;
        }
      ).n;
    const before = toSync();
    let atAnswer = -1;
    let status = 0;
    // Asked once the pass is among the rows (its first status change), answered while rows are still left.
    const answered = new Promise<void>((resolve) => {
      const off = berth.core.events.subscribe((e) => {
        if (e.type !== "vm.synced") return;
        off();
        void fetch(`http://127.0.0.1:${port}/healthz`).then((res) => {
          status = res.status;
          atAnswer = toSync();
          resolve();
        });
      });
    });
    await answered;
    expect(before).toBeGreaterThan(0);
    expect(status).toBe(200);
    // Rows were still left to sync when /healthz answered: the pass had not ended.
    expect(atAnswer).toBeGreaterThan(0);
    const deadline = Date.now() + 30_000;
    while (toSync() > 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(toSync()).toBe(0);
  } finally {
    await berth.stop();
  }
});

test("a mark rewritten without a lifecycle event never gets a row marked gone from the cache", async () => {
  core.db.run("DELETE FROM vms");
  const mine = (n: string) => n === "rs-mark";
  await core.hv.call("domain.define", {
    xml: buildDomainXml({
      name: "rs-mark",
      type: "qemu",
      vcpus: 1,
      memoryMiB: 64,
      boot: { kind: "disk" },
      disks: [],
      nics: [],
      berthId: "rs-mark-a",
    }),
  });
  try {
    // Its definition's lifecycle event has arrived and a pass has cached its mark.
    await Bun.sleep(300);
    await reconcile(core, { domains: mine });
    const first = await reconcile(core, { domains: mine });
    expect(first.orphans).toEqual([{ id: "rs-mark-a", domain: "rs-mark", action: "reported" }]);
    // setMetadata fires no lifecycle event: the cached mark still says rs-mark-a.
    await core.hv.call("domain.setMetadata", {
      name: "rs-mark",
      uri: BERTH_NS,
      key: BERTH_NS_KEY,
      xml: berthMetadataXml("rs-mark-b"),
      config: true,
    });
    const at = new Date(Date.now() - 60_000).toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
         VALUES ('rs-mark-b', 'rs-mark', 'stopped', 1, 64, '{"mode":"disk"}', ?, ?)`,
      )
      .run(at, at);
    const second = await reconcile(core, { domains: mine });
    expect(second.gone).toEqual([]);
    expect(core.db.query("SELECT status FROM vms WHERE id = 'rs-mark-b'").get()).toEqual({
      status: "stopped",
    });
    // Read afresh from then on: the row has its domain, and nothing is an orphan.
    const third = await reconcile(core, { domains: mine });
    expect([third.gone, third.orphans, third.skipped, third.errors]).toEqual([[], [], [], []]);
    expect(third.checked).toEqual({ vms: 1, domains: 1 });
  } finally {
    await core.hv.call("domain.undefine", { name: "rs-mark" });
  }
});

test("a pass's one bulk read also corrects the lists' state map, where an event was missed", async () => {
  const states = vmStates(core.hv);
  // A state no event told (as when the pump missed one): the domain is shut off on libvirt.
  states.set(name(0), "running");
  expect(states.get(name(0))).toBe("running");
  await reconcile(core, { domains: only });
  expect(states.get(name(0))).toBe("shutoff");
});
