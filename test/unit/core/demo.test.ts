// The demo pool out of the box (test driver): off until its guest is built, then image, network, profile, pool.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { DEMO, demoDir, ensureDemo } from "../../../src/core/demo/ensure.ts";
import { deletePool, showPool } from "../../../src/core/pools/pools.ts";
import { testConfig, testCore } from "../../support/core.ts";

const cores: Awaited<ReturnType<typeof testCore>>[] = [];
afterAll(async () => {
  for (const c of cores) await c.close();
});

async function demoCore(toml = "") {
  const core = await testCore(
    testConfig(
      `[network]\nmanage_bridges = false\n[storage]\npool = "udemo-store"\n[demo]\nsubnet = "10.79.1.0/24"\n${toml}`,
    ),
  );
  cores.push(core);
  return core;
}

/** Stand-ins for the built guest: the test driver stores the bytes without booting them. */
function fakeGuest(core: Core) {
  const dir = demoDir(core.config);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vmlinuz"), Buffer.alloc(4096, 1));
  writeFileSync(join(dir, "initramfs.img"), Buffer.alloc(4096, 2));
}

test("disabled, or the guest not built: nothing is created", async () => {
  const off = await demoCore("enabled = false");
  fakeGuest(off);
  expect(await ensureDemo(off)).toBe("disabled");
  const unbuilt = await demoCore();
  expect(await ensureDemo(unbuilt)).toBe("not_built");
  for (const c of [off, unbuilt]) {
    for (const table of ["images", "networks", "profiles", "pools"]) {
      expect(c.db.query(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    }
  }
});

test("built: the kernel image, NAT network, profile and pool named demo; a second start changes nothing", async () => {
  const core = await demoCore("size = 1");
  fakeGuest(core);
  expect(await ensureDemo(core)).toBe("ready");
  const image = core.db.query("SELECT kind, status FROM images WHERE name = ?").get(DEMO);
  expect(image).toEqual({ kind: "kernel", status: "ready" });
  const net = core.db.query("SELECT kind, subnet FROM networks WHERE name = ?").get(DEMO);
  expect(net).toEqual({ kind: "nat", subnet: "10.79.1.0/24" });
  const profile = JSON.parse(
    (core.db.query("SELECT spec FROM profiles WHERE name = ?").get(DEMO) as { spec: string }).spec,
  );
  expect(profile.boot).toEqual({ mode: "kernel", kernel_image: DEMO, cmdline: "console=ttyS0" });
  expect(profile.networks).toEqual([DEMO]);
  const pool = showPool(core, DEMO);
  expect(pool.size).toBe(1);
  expect(pool.ready_check).toBe("tcp:8080");

  // An operator's own change wins: a deleted pool comes back at the next start, an existing one is left alone.
  deletePool(core, SYSTEM, DEMO);
  expect(await ensureDemo(core)).toBe("ready");
  expect(showPool(core, DEMO).size).toBe(1);
  const rows = () =>
    ["images", "networks", "profiles", "pools"].map((t) =>
      core.db.query(`SELECT count(*) AS n FROM ${t}`).get(),
    );
  const before = rows();
  expect(await ensureDemo(core)).toBe("ready");
  expect(rows()).toEqual(before);
});
