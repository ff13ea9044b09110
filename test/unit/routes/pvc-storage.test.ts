// PVC's storage volumes and snapshots on the test driver: statuses, arrays, string types, units, limit, pools, ownership, quota.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { issueToken } from "../../../src/core/auth/tokens.ts";
import { poolDir } from "../../../src/core/paths.ts";
import { allocation } from "../../../src/db/allocation.ts";
import { usageOf } from "../../../src/db/vm-owners.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

type Core = Awaited<ReturnType<typeof testCore>>;
const POOL = "berth";
const API = "/api/v1/storage/ceph";

interface Reply {
  status: number;
  body: Json;
}

/** A core whose PVC listener answers through app.handle; `send` speaks PVC's dialect (query and form values). */
function pvcTarget(extraToml: () => Promise<string> = async () => "") {
  const env = {} as {
    core: Core;
    send: (method: string, path: string, form?: Record<string, string>) => Promise<Reply>;
  };
  beforeAll(async () => {
    env.core = await testCore(testConfig(`[pvc]\nlisten = "127.0.0.1:1"\n${await extraToml()}`));
    const plan = listenerPlan(env.core.config).find((l) => l.fronts.some((f) => f.front === "pvc"));
    const app = createApp(env.core, plan);
    env.send = async (method, path, form) => {
      const init: RequestInit = { method };
      if (form) {
        init.body = new URLSearchParams(form).toString();
        init.headers = { "content-type": "application/x-www-form-urlencoded" };
      }
      const res = await app.handle(new Request(`http://localhost${path}`, init));
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Json) : null };
    };
  });
  afterAll(async () => await env.core.close());
  return env;
}

/** What real libvirt does when it creates a qcow2 volume (the test driver keeps volumes in memory only). */
function writeQcow2(core: Core, name: string, size: string): string {
  mkdirSync(poolDir(core.config), { recursive: true });
  const path = join(poolDir(core.config), `pvc-${name}.qcow2`);
  const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", path, size], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`qemu-img create: ${made.stderr.toString()}`);
  return path;
}

function qemuSnapshots(path: string): string[] {
  const out = Bun.spawnSync(["qemu-img", "info", "-U", "--output=json", path], { stdout: "pipe" });
  const info = JSON.parse(out.stdout.toString()) as { snapshots?: { name: string }[] };
  return (info.snapshots ?? []).map((s) => s.name);
}

describe("volumes, auth off", () => {
  const t = pvcTarget();

  test("add with PVC's units: 200 and PVC's message; the list is an array of {name, pool, stats} with a human size", async () => {
    const add = await t.send("POST", `${API}/volume/${POOL}/v4096/add`, { size: "4096M" });
    expect(add).toEqual({
      status: 200,
      body: { message: "Created new RBD volume 'v4096' of size '4096M' on pool 'berth'." },
    });
    const list = await t.send("GET", `${API}/volume`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      {
        name: "v4096",
        pool: POOL,
        stats: {
          name: "v4096",
          size: "4096M",
          format: "qcow2",
          allocated: expect.any(String),
          create_timestamp: expect.any(String),
        },
      },
    ]);
    // libvirt made it of exactly that size.
    const vol = await t.core.hv.call("volume.info", { pool: POOL, volume: "pvc-v4096.qcow2" });
    expect(vol.capacity).toBe(4096 * 1024 ** 2);
  });

  test("sizes: bare bytes (as the manual allows), G, K, lowercase; shown as PVC's smallest unit of at most 4 digits", async () => {
    const cases: [string, string, string][] = [
      ["bytes", "1073741824", "1024M"],
      ["twog", "2G", "2048M"],
      ["kib", "512K", "512K"],
      ["lower", "3g", "3072M"],
      ["big", "10240M", "10G"],
    ];
    for (const [name, size] of cases) {
      const r = await t.send("POST", `${API}/volume/${POOL}/${name}/add`, { size });
      expect({ name, status: r.status }).toEqual({ name, status: 200 });
    }
    for (const [name, , shown] of cases) {
      const one = await t.send("GET", `${API}/volume/${POOL}/${name}`);
      expect({ name, status: one.status, size: (one.body as Json[])[0]?.stats.size }).toEqual({
        name,
        status: 200,
        size: shown,
      });
    }
  });

  test("a size that is missing, zero or not PVC's units is PVC's 510; nothing is made", async () => {
    const missing = await t.send("POST", `${API}/volume/${POOL}/nosize/add`);
    expect(missing).toEqual({
      status: 510,
      body: { message: "ERROR: A volume size in bytes (or with an M/G/T suffix) must be specified." },
    });
    for (const size of ["0", "12X", "1.5G", "-1G", "G", "99999999999999999P"]) {
      const r = await t.send("POST", `${API}/volume/${POOL}/badsize/add`, { size });
      expect({ size, status: r.status, message: (r.body as { message: string }).message }).toEqual({
        size,
        status: 510,
        message: expect.stringMatching(/^ERROR: Size /),
      });
    }
    expect((await t.send("GET", `${API}/volume/${POOL}/badsize`)).body).toEqual([]);
    expect((await t.send("GET", `${API}/volume/${POOL}/nosize`)).body).toEqual([]);
  });

  test("only berth's pool is a PVC pool: another libvirt pool is PVC's 'No pool', for adds and lists", async () => {
    // The test driver's own pool exists in libvirt, but it is the host's, not berth's.
    expect((await t.core.hv.call("pool.list", {})).map((p) => p.name)).toContain("default-pool");
    const add = await t.send("POST", `${API}/volume/default-pool/x/add`, { size: "1M" });
    expect(add).toEqual({
      status: 510,
      body: { message: "ERROR: No pool with name 'default-pool' is present in the cluster." },
    });
    const list = await t.send("GET", `${API}/volume?pool=default-pool`);
    expect(list.status).toBe(510);
    expect((await t.send("GET", `${API}/volume/default-pool/x`)).status).toBe(510);
    expect((await t.send("GET", `${API}/volume?pool=${POOL}`)).body).toBeArray();
  });

  test("limit is PVC's regex against 'pool/volume' (.* wrapped unless anchored); the one-volume GET is exact", async () => {
    const names = (r: Reply) => (r.body as { name: string }[]).map((v) => v.name);
    expect(names(await t.send("GET", `${API}/volume?limit=v40`))).toEqual(["v4096"]);
    expect(names(await t.send("GET", `${API}/volume?limit=^berth/t`))).toEqual(["twog"]);
    expect(names(await t.send("GET", `${API}/volume?limit=^t`))).toEqual([]);
    expect(names(await t.send("GET", `${API}/volume?limit=g$`))).toEqual(["big", "twog"].sort());
    // A form value counts as Flask's request.values did.
    expect(names(await t.send("GET", `${API}/volume?pool=${POOL}&limit=lower`))).toEqual(["lower"]);
    // Not a prefix match: /volume/<pool>/v40 is no volume.
    expect((await t.send("GET", `${API}/volume/${POOL}/v40`)).body).toEqual([]);
    const bad = await t.send("GET", `${API}/volume?limit=(`);
    expect(bad.status).toBe(510);
    expect((bad.body as { message: string }).message).toContain("Regex Error");
  });

  test("a taken name or an invalid one is a 510", async () => {
    const again = await t.send("POST", `${API}/volume/${POOL}/v4096/add`, { size: "1M" });
    expect(again).toEqual({
      status: 510,
      body: { message: "ERROR: A volume with name 'v4096' already exists in pool berth." },
    });
    const bad = await t.send("POST", `${API}/volume/${POOL}/${encodeURIComponent("a b")}/add`, {
      size: "1M",
    });
    expect(bad.status).toBe(510);
    expect((bad.body as { message: string }).message).toStartWith("ERROR: volume name 'a b' is invalid");
  });

  test("a volume larger than [capacity] max_disk_gb is refused", async () => {
    const r = await t.send("POST", `${API}/volume/${POOL}/huge/add`, { size: "100T" });
    expect(r.status).toBe(510);
    expect((r.body as { message: string }).message).toContain("largest disk allowed");
  });

  test("volumes count in berth's disk allocation (the pool's space) once, even when a VM holds one", () => {
    const before = allocation(t.core.db).disk_bytes;
    expect(before).toBeGreaterThanOrEqual(4096 * 1024 ** 2);
    insertVmRow(t.core.db, { id: "pvc-alloc", name: "pvc-alloc", status: "stopped" });
    t.core.db
      .query(
        "INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size) VALUES ('pvc-alloc', 0, 'root', 'pvc-v4096.qcow2', '/x', 'qcow2', 'disk', ?)",
      )
      .run(4096 * 1024 ** 2);
    expect(allocation(t.core.db).disk_bytes).toBe(before);
    t.core.db.query("DELETE FROM vms WHERE id = 'pvc-alloc'").run();
  });

  test("remove: PVC's message, gone from the list and from libvirt; again is PVC's 'No volume'", async () => {
    const r = await t.send("POST", `${API}/volume/${POOL}/kib/remove`);
    expect(r).toEqual({ status: 200, body: { message: "Removed RBD volume 'kib' in pool 'berth'." } });
    expect((await t.send("GET", `${API}/volume/${POOL}/kib`)).body).toEqual([]);
    const vols = (await t.core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    expect(vols).not.toContain("pvc-kib.qcow2");
    expect(await t.send("POST", `${API}/volume/${POOL}/kib/remove`)).toEqual({
      status: 510,
      body: { message: "ERROR: No volume with name 'kib' is present in pool berth." },
    });
  });

  test("a volume that is a VM's disk is not removed", async () => {
    await t.send("POST", `${API}/volume/${POOL}/held/add`, { size: "1M" });
    insertVmRow(t.core.db, { id: "pvc-held", name: "pvc-held", status: "stopped" });
    t.core.db
      .query(
        "INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size) VALUES ('pvc-held', 0, 'root', 'pvc-held.qcow2', '/x', 'qcow2', 'disk', 1048576)",
      )
      .run();
    const r = await t.send("POST", `${API}/volume/${POOL}/held/remove`);
    expect(r).toEqual({
      status: 510,
      body: { message: "ERROR: Volume 'held' in pool berth is a disk of a VM; remove it from the VM first." },
    });
    expect((await t.send("GET", `${API}/volume/${POOL}/held`)).body).toHaveLength(1);
  });
});

describe("snapshots, auth off", () => {
  const t = pvcTarget();
  let path = "";

  beforeAll(async () => {
    for (const name of ["s1", "s2"]) {
      const r = await t.send("POST", `${API}/volume/${POOL}/${name}/add`, { size: "64M" });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    }
    path = writeQcow2(t.core, "s1", "64M");
    writeQcow2(t.core, "s2", "64M");
  });

  test("add: PVC's message; qemu-img sees the internal snapshot; list, filters and the one-snapshot GET", async () => {
    const add = await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/snap-a/add`);
    expect(add).toEqual({
      status: 200,
      body: { message: "Created new RBD snapshot 'snap-a' of volume 's1' on pool 'berth'." },
    });
    expect(qemuSnapshots(path)).toEqual(["snap-a"]);
    expect((await t.send("POST", `${API}/volume/snapshot/${POOL}/s2/snap-b/add`)).status).toBe(200);
    expect((await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/1/add`)).status).toBe(200);

    const all = await t.send("GET", `${API}/volume/snapshot`);
    expect(all).toEqual({
      status: 200,
      body: [
        { pool: POOL, volume: "s1", snapshot: "snap-a" },
        { pool: POOL, volume: "s1", snapshot: "1" },
        { pool: POOL, volume: "s2", snapshot: "snap-b" },
      ],
    });
    const snaps = (r: Reply) => (r.body as { snapshot: string }[]).map((s) => s.snapshot);
    expect(snaps(await t.send("GET", `${API}/volume/snapshot?volume=s2`))).toEqual(["snap-b"]);
    expect(snaps(await t.send("GET", `${API}/volume/snapshot?pool=${POOL}&limit=snap`))).toEqual([
      "snap-a",
      "snap-b",
    ]);
    // limit runs against "pool/volume@snapshot".
    expect(snaps(await t.send("GET", `${API}/volume/snapshot?limit=^berth/s1@`))).toEqual(["snap-a", "1"]);
    expect((await t.send("GET", `${API}/volume/snapshot/${POOL}/s1/snap-a`)).body).toEqual([
      { pool: POOL, volume: "s1", snapshot: "snap-a" },
    ]);
    expect((await t.send("GET", `${API}/volume/snapshot/${POOL}/s1/snap`)).body).toEqual([]);
    expect((await t.send("GET", `${API}/volume/snapshot?volume=nope`)).body).toEqual({
      message: "ERROR: No volume with name 'nope' is present in the cluster.",
    });
    expect((await t.send("GET", `${API}/volume/snapshot?pool=default-pool`)).status).toBe(510);
  });

  test("a taken snapshot name, an unknown volume or snapshot: PVC's 510s, nothing changes, not even an operation", async () => {
    const ops = () => t.core.db.query("SELECT count(*) AS n FROM operations").get();
    const before = ops();
    expect(await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/snap-a/add`)).toEqual({
      status: 510,
      body: { message: "ERROR: A snapshot with name 'snap-a' already exists of volume s1 on pool berth." },
    });
    expect((await t.send("POST", `${API}/volume/snapshot/${POOL}/nope/x/add`)).body).toEqual({
      message: "ERROR: No volume with name 'nope' is present in pool berth.",
    });
    expect(await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/nope/remove`)).toEqual({
      status: 510,
      body: { message: "ERROR: No snapshot with name 'nope' is present of volume s1 on pool berth." },
    });
    expect(qemuSnapshots(path)).toEqual(["snap-a", "1"]);
    expect(ops()).toEqual(before);
    // A volume libvirt lists but whose file is not there (the test driver's) is refused up front too.
    expect((await t.send("POST", `${API}/volume/${POOL}/nofile/add`, { size: "1M" })).status).toBe(200);
    const afterAdd = ops();
    expect(await t.send("POST", `${API}/volume/snapshot/${POOL}/nofile/x/add`)).toEqual({
      status: 510,
      body: { message: "ERROR: Volume 'nofile' in pool berth has no file in the pool." },
    });
    expect(ops()).toEqual(afterAdd);
    expect(afterAdd).not.toEqual(before);
  });

  test("remove deletes exactly the named snapshot, even one named like another's id", async () => {
    // "1" is snap-a's qemu id and the other snapshot's name: removing "1" removes the one named so.
    const r = await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/1/remove`);
    expect(r).toEqual({
      status: 200,
      body: { message: "Removed RBD snapshot '1' of volume 's1' in pool 'berth'." },
    });
    expect(qemuSnapshots(path)).toEqual(["snap-a"]);
  });

  test("a volume a running VM holds is not snapshotted", async () => {
    // The test driver's own domain "test" runs; a berth VM of that name holds s2.
    insertVmRow(t.core.db, { id: "pvc-run", name: "test", status: "running" });
    t.core.db
      .query(
        "INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size) VALUES ('pvc-run', 0, 'root', 'pvc-s2.qcow2', '/x', 'qcow2', 'disk', 1048576)",
      )
      .run();
    const r = await t.send("POST", `${API}/volume/snapshot/${POOL}/s2/snap-c/add`);
    expect(r).toEqual({
      status: 510,
      body: {
        message: "ERROR: Volume 's2' in pool berth is a disk of a running VM; shut the VM down first.",
      },
    });
    t.core.db.query("DELETE FROM vms WHERE id = 'pvc-run'").run();
  });

  test("a volume whose header names a backing file is never handed to qemu-img", async () => {
    const base = join(poolDir(t.core.config), "base.qcow2");
    Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", base, "1M"]);
    Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", path]);
    const r = await t.send("POST", `${API}/volume/snapshot/${POOL}/s1/snap-d/add`);
    expect(r.status).toBe(510);
    expect((r.body as { message: string }).message).toContain("backing file");
  });
});

describe("auth on: a volume is its maker's", () => {
  const user = async (name: string, admin = false) =>
    `[[auth.users]]\nname = "${name}"\nadmin = ${admin}\npassword_hash = "${await Bun.password.hash(name, { algorithm: "argon2id" })}"\n`;
  const t = pvcTarget(
    async () =>
      `[auth]\nenabled = true\nmax_disk_gb_per_user = 3\n${await user("root", true)}${await user("alice")}${await user("bob")}`,
  );
  const tokens: Record<string, string> = {};
  beforeAll(() => {
    for (const name of ["root", "alice", "bob"]) {
      tokens[name] = issueToken(t.core, { name, admin: name === "root", tokenId: null }).token;
    }
  });
  const as = (who: string) => `token=${tokens[who]}`;

  test("without a token: 401; alice's volume is hers; bob neither sees nor changes it; an admin sees all", async () => {
    expect((await t.send("GET", `${API}/volume`)).status).toBe(401);
    expect((await t.send("POST", `${API}/volume/${POOL}/a1/add`, { size: "1G" })).status).toBe(401);
    const add = await t.send("POST", `${API}/volume/${POOL}/a1/add?${as("alice")}`, { size: "1G" });
    expect(add.status).toBe(200);
    const names = async (who: string, q = "") =>
      ((await t.send("GET", `${API}/volume?${as(who)}${q}`)).body as { name: string }[]).map((v) => v.name);
    expect(await names("alice")).toEqual(["a1"]);
    expect(await names("bob")).toEqual([]);
    expect(await names("root")).toEqual(["a1"]);
    expect((await t.send("GET", `${API}/volume/${POOL}/a1?${as("bob")}`)).body).toEqual([]);
    const hidden = { message: "ERROR: No volume with name 'a1' is present in pool berth." };
    expect((await t.send("POST", `${API}/volume/${POOL}/a1/remove?${as("bob")}`)).body).toEqual(hidden);
    expect((await t.send("POST", `${API}/volume/snapshot/${POOL}/a1/x/add?${as("bob")}`)).body).toEqual(
      hidden,
    );
    expect((await t.send("GET", `${API}/volume/snapshot?volume=a1&${as("bob")}`)).status).toBe(510);
    expect(t.core.db.query("SELECT owner FROM pvc_volumes WHERE name = 'a1'").get()).toEqual({
      owner: "alice",
    });
  });

  test("volumes count against the maker's disk quota", async () => {
    expect(usageOf(t.core.db, "alice").disk_bytes).toBe(1024 ** 3);
    const over = await t.send("POST", `${API}/volume/${POOL}/a2/add?${as("alice")}`, { size: "3G" });
    expect(over.status).toBe(510);
    expect((over.body as { message: string }).message).toContain("user alice holds");
    expect((await t.send("POST", `${API}/volume/${POOL}/a2/add?${as("alice")}`, { size: "2G" })).status).toBe(
      200,
    );
    // bob's quota is his own.
    expect((await t.send("POST", `${API}/volume/${POOL}/b1/add?${as("bob")}`, { size: "3G" })).status).toBe(
      200,
    );
  });

  test("an admin removes anyone's volume; its maker's quota is free again", async () => {
    const r = await t.send("POST", `${API}/volume/${POOL}/a2/remove?${as("root")}`);
    expect(r.status).toBe(200);
    expect(usageOf(t.core.db, "alice").disk_bytes).toBe(1024 ** 3);
  });
});
