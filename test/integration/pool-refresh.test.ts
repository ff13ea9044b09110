// libvirt refuses a pool refresh while a volume is being built in it; berth's refreshPool waits those jobs out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureStoragePool, refreshPool } from "../../src/core/storage-pool.ts";
import { buildVolumeXml } from "../../src/xml/storage.ts";
import { integrationReady } from "./support/env.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const POOL = `berth-refresh-${process.pid}`;
const busy = (e: unknown) => `${(e as Error).message}`.includes("asynchronous jobs running");

describe.skipIf(!integrationReady())("pool refresh during volume builds", () => {
  let core: SystemCore;
  let made = 0;
  beforeAll(async () => {
    core = await systemCore(POOL, "", 4);
    await ensureStoragePool(core);
  });
  afterAll(async () => {
    for (const v of await core.hv.call("volume.list", { pool: POOL })) {
      await core.hv.call("volume.delete", { pool: POOL, volume: v.name }).catch(() => undefined);
    }
    expect(await dropStoragePool(core, POOL)).toEqual([]);
    await core.close();
  });

  /** Builds qcow2 volumes one after another (each a qemu-img create: an async job) until `stop` is set. */
  async function building(stop: { done: boolean }): Promise<void> {
    while (!stop.done && made < 400) {
      const xml = buildVolumeXml({ name: `v${made++}.qcow2`, capacityBytes: 1024 ** 3, format: "qcow2" });
      await core.hv.call("volume.create", { pool: POOL, xml });
    }
  }

  async function whileBuilding<T>(work: () => Promise<T>): Promise<T> {
    const stop = { done: false };
    const builders = [building(stop), building(stop)];
    try {
      return await work();
    } finally {
      stop.done = true;
      await Promise.all(builders);
    }
  }

  test("a bare refresh meets the jobs; refreshPool waits them out every time", async () => {
    // The condition is real here: a bare pool.refresh during builds is refused at least once.
    const bare = await whileBuilding(async () => {
      for (let i = 0; i < 200; i++) {
        const e = await core.hv.call("pool.refresh", { pool: POOL }).then(
          () => null,
          (e) => e,
        );
        if (e) return e;
      }
      return null;
    });
    expect(bare && busy(bare)).toBe(true);

    const failures = await whileBuilding(async () => {
      const errors: string[] = [];
      for (let i = 0; i < 50; i++) await refreshPool(core, POOL).catch((e) => errors.push(`${e}`));
      return errors;
    });
    expect(failures).toEqual([]);
  }, 60_000);
});
