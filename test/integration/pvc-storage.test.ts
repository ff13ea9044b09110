// PVC's storage endpoints on real libvirtd over a real socket, as curl sends them: a volume is a real qcow2 of its size, its snapshots are qcow2 internal snapshots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { listenerPlan } from "../../src/config/fronts.ts";
import { poolDir } from "../../src/core/paths.ts";
import { createApp } from "../../src/routes/app.ts";
import type { Json } from "../support/http.ts";
import { integrationReady } from "./support/env.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const tag = `pvcs${process.pid}`;
const POOL = `berth-it-${tag}`;
const API = "/api/v1/storage/ceph";

interface QemuInfo {
  format: string;
  "virtual-size": number;
  snapshots?: { name: string }[];
}

/** What qemu-img itself says of a file (-U: read even if something holds it). */
function qemuInfo(path: string): QemuInfo {
  const r = Bun.spawnSync(["qemu-img", "info", "-U", "--output=json", path], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`qemu-img info: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as QemuInfo;
}

/** `qemu-img snapshot -l`: the snapshot table as the admin reads it. */
function snapshotTable(path: string): string {
  return Bun.spawnSync(["qemu-img", "snapshot", "-U", "-l", path], { stdout: "pipe" }).stdout.toString();
}

describe.skipIf(!integrationReady())("PVC's storage on libvirtd", () => {
  let core: SystemCore;
  let server: ReturnType<typeof Bun.serve>;
  let base = "";

  /** curl as a PVC client runs it (`curl -X POST -d size=4096M ...`): status and JSON body. */
  async function curl(path: string, ...args: string[]): Promise<{ status: number; body: Json }> {
    const p = Bun.spawn(["curl", "-sS", "-w", "\n%{http_code}", `${base}${path}`, ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`curl ${path}: ${await new Response(p.stderr).text()}`);
    const cut = out.lastIndexOf("\n");
    return { status: Number(out.slice(cut + 1)), body: JSON.parse(out.slice(0, cut)) };
  }

  beforeAll(async () => {
    core = await systemCore(POOL, '[pvc]\nlisten = "127.0.0.1:1"\n');
    const plan = listenerPlan(core.config).find((l) => l.fronts.some((f) => f.front === "pvc"));
    const app = createApp(core, plan);
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
    base = `http://127.0.0.1:${server.port}`;
  }, 60_000);

  afterAll(async () => {
    server?.stop(true);
    if (!core) return;
    // Whatever a failed test left: its volumes, then the pool.
    for (const v of await core.hv.call("volume.list", { pool: POOL }).catch(() => []))
      await core.hv.call("volume.delete", { pool: POOL, volume: v.name }).catch(() => undefined);
    await dropStoragePool(core, POOL);
    await core.close();
  }, 60_000);

  test("volume add, snapshot add/list/remove, volume remove: real files, real snapshots, nothing left", async () => {
    const add = await curl(`${API}/volume/${POOL}/data1/add`, "-X", "POST", "-d", "size=4096M");
    expect(add).toEqual({
      status: 200,
      body: { message: `Created new RBD volume 'data1' of size '4096M' on pool '${POOL}'.` },
    });
    const path = join(poolDir(core.config), "pvc-data1.qcow2");
    const info = qemuInfo(path);
    expect({ format: info.format, size: info["virtual-size"] }).toEqual({
      format: "qcow2",
      size: 4096 * 1024 ** 2,
    });
    const listed = await curl(`${API}/volume?pool=${POOL}`);
    expect(listed.body).toEqual([
      {
        name: "data1",
        pool: POOL,
        stats: expect.objectContaining({ name: "data1", size: "4096M", format: "qcow2" }),
      },
    ]);
    // A bare byte count, as the manual allows, with -F (multipart) as curl sends forms too.
    expect(
      (await curl(`${API}/volume/${POOL}/data2/add`, "-X", "POST", "-F", "size=1073741824")).status,
    ).toBe(200);
    expect(qemuInfo(join(poolDir(core.config), "pvc-data2.qcow2"))["virtual-size"]).toBe(1024 ** 3);

    const snap = await curl(`${API}/volume/snapshot/${POOL}/data1/before-upgrade/add`, "-X", "POST");
    expect(snap).toEqual({
      status: 200,
      body: { message: `Created new RBD snapshot 'before-upgrade' of volume 'data1' on pool '${POOL}'.` },
    });
    expect(snapshotTable(path)).toContain("before-upgrade");
    expect((await curl(`${API}/volume/snapshot?volume=data1`)).body).toEqual([
      { pool: POOL, volume: "data1", snapshot: "before-upgrade" },
    ]);
    expect((await curl(`${API}/volume/snapshot/${POOL}/data1/before-upgrade`)).body).toHaveLength(1);

    const unsnap = await curl(`${API}/volume/snapshot/${POOL}/data1/before-upgrade/remove`, "-X", "POST");
    expect(unsnap).toEqual({
      status: 200,
      body: { message: `Removed RBD snapshot 'before-upgrade' of volume 'data1' in pool '${POOL}'.` },
    });
    expect(snapshotTable(path)).not.toContain("before-upgrade");
    expect(qemuInfo(path).snapshots ?? []).toEqual([]);

    for (const name of ["data1", "data2"]) {
      const rm = await curl(`${API}/volume/${POOL}/${name}/remove`, "-X", "POST");
      expect(rm).toEqual({
        status: 200,
        body: { message: `Removed RBD volume '${name}' in pool '${POOL}'.` },
      });
    }
    expect(existsSync(path)).toBe(false);
    expect((await curl(`${API}/volume`)).body).toEqual([]);
    expect((await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name)).toEqual([]);
  }, 60_000);

  test("the Ceph cluster endpoints say there is none; a pool removal wants its flag first", async () => {
    expect(await curl(`${API}/status`)).toEqual({
      status: 510,
      body: { message: "ERROR: no Ceph cluster is configured on this host" },
    });
    expect((await curl(`${API}/pool/rbd/remove`, "-X", "POST")).status).toBe(599);
  });
});
