// The image storage pool and the data directory (SQLite) on tiny tmpfs mounts that fill up: 507
// insufficient_storage (never a 500), nothing half-created, no corruption, and recovery once space returns.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { integrationReady } from "../integration/support/env.ts";
import type { Json } from "../support/http.ts";
import { type Answer, BerthProcess, isErrorShape } from "./support/berth-process.ts";
import { inconsistencies, type LibvirtView, libvirtView, scrub } from "./support/libvirt-view.ts";
import { fillUp, mountTmpfs, resizeTmpfs, unmount } from "./support/tmpfs.ts";

const P = `fs${process.pid}`;
const PROFILE = `${P}-p`;
const mine = (name: string) => name.startsWith(`${P}-`);
const CLEAN = { orphanDomains: [], orphanVolumes: [], rowsWithoutDomain: [], creating: [] };

/** SQLite's own verdict on the database file, opened read-only next to berth. */
function integrity(dataDir: string): string {
  const db = new Database(join(dataDir, "berth.db"), { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join("; ");
  } finally {
    db.close();
  }
}

const full = (r: Answer) => r.status === 507 && r.body?.error?.code === "insufficient_storage";

describe.skipIf(!integrationReady())("out of space", () => {
  // Thin 1 GiB disks in a 1 MiB pool: only with the space checks off do creates reach qemu-img's ENOSPC;
  // 13 one-vCPU VMs need more than a 2-core host's default vCPU room.
  const berth = new BerthProcess({
    tag: P,
    poolPath: "images",
    extraToml: "[capacity]\ndisk_overcommit = 0\nvcpu_overcommit = 16",
  });
  const filler = join(berth.dataDir, "filler");
  let view: LibvirtView;
  const mounted: string[] = [];

  beforeAll(async () => {
    mountTmpfs(berth.poolPath, "1m");
    mounted.push(berth.poolPath);
    mountTmpfs(berth.dataDir, "4m");
    mounted.push(berth.dataDir);
    view = await libvirtView();
    await berth.start();
    await berth.ok("POST", "/v1/profiles", { name: PROFILE, cpus: 1, memory_mib: 32, root_disk_gb: 1 }, 201);
  }, 60_000);

  afterAll(async () => {
    rmSync(filler, { force: true });
    for (const d of mounted) {
      try {
        resizeTmpfs(d, "64m");
      } catch (e) {
        console.warn(`${e}`);
      }
    }
    if (berth.running) {
      const vms: Json[] = (await berth.get("/v1/vms").catch(() => null))?.body ?? [];
      for (const vm of vms) await berth.api("DELETE", `/v1/vms/${vm.name}?wait=true`).catch(() => null);
      await berth.stop();
    }
    if (view) {
      await scrub(view, mine, berth.storagePool);
      await view.close();
    }
    for (const d of mounted) unmount(d);
  }, 120_000);

  test("the image pool fills during concurrent creates: 507 for the ones that do not fit, nothing half-made", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `${P}-a${i}`);
    const answers = await Promise.all(
      names.map((name) => berth.api("POST", "/v1/vms?wait=true", { name, profile: PROFILE, start: false })),
    );
    const unclear = answers.filter((r) => r.status !== 200 && !full(r));
    expect(unclear.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const refused = names.filter((_, i) => answers[i]?.status === 507);
    console.log(`${names.length - refused.length} creates fit in 1 MiB, ${refused.length} answered 507`);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(names.length);
    expect(answers.find(full)?.body.error.message).toContain("out of disk space");
    expect(answers.every((r) => r.status !== 507 || isErrorShape(r.body))).toBe(true);

    for (const name of refused) expect((await berth.get(`/v1/vms/${name}`)).status).toBe(404);
    expect(await inconsistencies(berth, view, mine)).toEqual(CLEAN);
    // No partial file that libvirt does not even list.
    const referenced = new Set(
      ((await berth.get("/v1/vms")).body as Json[]).flatMap((v) => v.disks.map((d: Json) => d.volume)),
    );
    expect(readdirSync(berth.poolPath).filter((f) => !referenced.has(f))).toEqual([]);

    // Space returns: the same request now succeeds, without a restart.
    resizeTmpfs(berth.poolPath, "32m");
    const again = await berth.api("POST", "/v1/vms?wait=true", {
      name: refused[0],
      profile: PROFILE,
      start: false,
    });
    expect(again.status).toBe(200);
    expect(berth.alive).toBe(true);
  }, 120_000);

  test("the data directory fills: writes answer 507, reads go on, no corruption, writes resume when space returns", async () => {
    const wrote = fillUp(filler);
    console.log(`filled the data directory with ${(wrote / 1024).toFixed(0)} KiB`);
    const userData = "#cloud-config\n".padEnd(60_000, "x");
    let made = 0;
    let refusal: Answer | null = null;
    for (let i = 0; i < 200 && !refusal; i++) {
      const r = await berth.api("POST", "/v1/profiles", {
        name: `${P}-q${i}`,
        cpus: 1,
        memory_mib: 32,
        user_data: userData,
      });
      if (r.status === 201) made++;
      else refusal = r;
    }
    console.log(`${made} profiles written before the database refused`);
    expect(refusal && { status: refusal.status, code: refusal.body?.error?.code }).toEqual({
      status: 507,
      code: "insufficient_storage",
    });
    expect(isErrorShape(refusal?.body)).toBe(true);

    // A create while the database is full is refused cleanly too.
    const vm = await berth.api("POST", "/v1/vms?wait=true", {
      name: `${P}-b`,
      profile: PROFILE,
      start: false,
    });
    expect({ status: vm.status, code: vm.body?.error?.code }).toEqual({
      status: 507,
      code: "insufficient_storage",
    });
    expect((await berth.get("/v1/vms")).status).toBe(200);
    expect((await berth.get("/healthz")).status).toBe(200);
    expect(berth.alive).toBe(true);

    rmSync(filler);
    expect(integrity(berth.dataDir)).toBe("ok");
    expect((await berth.get(`/v1/vms/${P}-b`)).status).toBe(404);
    expect(await inconsistencies(berth, view, mine)).toEqual(CLEAN);
    // Space is back: writes succeed again without a restart.
    await berth.ok("POST", "/v1/profiles", { name: `${P}-after`, cpus: 1, memory_mib: 32 }, 201);
    const b = await berth.api("POST", "/v1/vms?wait=true", {
      name: `${P}-b`,
      profile: PROFILE,
      start: false,
    });
    expect(b.status).toBe(200);

    // What was written survives a restart, and the file is sound once berth let go of it.
    await berth.stop();
    expect(integrity(berth.dataDir)).toBe("ok");
    await berth.start();
    const profiles = ((await berth.get("/v1/profiles")).body as Json[]).map((p) => p.name);
    expect(profiles).toContain(`${P}-after`);
    expect(profiles.filter((n) => n.startsWith(`${P}-q`)).length).toBe(made);
  }, 120_000);
});
