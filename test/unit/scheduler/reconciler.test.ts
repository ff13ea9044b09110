// startReconciler on the test driver: a pass at start, then one per trigger, with the last report kept and each pass counted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { reconcilePasses } from "../../../src/core/reconcile/passes.ts";
import { startReconciler } from "../../../src/scheduler/reconcile.ts";
import { buildDomainXml } from "../../../src/xml/domain.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(testConfig('[storage]\npool = "default-pool"\n[reconcile]\ninterval_s = 5'));
});
afterAll(() => core.close());

test("reconciles at start and on demand, keeping the last report and counting the passes", async () => {
  core.db.run(
    `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
     VALUES ('sr-id-1', 'sr-gone', 'running', 1, 128, '{"mode":"disk"}', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')`,
  );
  const r = startReconciler(core);
  try {
    await r.idle();
    expect(r.last()?.gone).toEqual(["sr-gone"]);
    const first = reconcilePasses(core);
    expect(first).toMatchObject({ ok: 1, errors: 0 });
    expect(first.lastEndedAt).toBeGreaterThan(Date.now() - 60_000);
    await core.hv.call("domain.define", {
      xml: buildDomainXml({
        name: "sr-orphan",
        type: "qemu",
        vcpus: 1,
        memoryMiB: 64,
        boot: { kind: "disk" },
        disks: [],
        nics: [],
        berthId: "sr-id-2",
      }),
    });
    r.trigger("test");
    await r.idle();
    expect(r.last()?.orphans).toEqual([{ id: "sr-id-2", domain: "sr-orphan", action: "reported" }]);
    expect(reconcilePasses(core).ok).toBe(2);
    expect(reconcilePasses(core).lastEndedAt).toBeGreaterThanOrEqual(first.lastEndedAt ?? Number.NaN);
  } finally {
    await r.stop();
    await core.hv.call("domain.undefine", { name: "sr-orphan" }).catch(() => undefined);
  }
});
