// Issue 10 findings 4 and 6 on real libvirtd: users act only on their own VMs; the catalogue, pools, networks and raw XML are admins'; secrets stay with owners.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { issueToken } from "../../src/core/auth/index.ts";
import { tick } from "../../src/core/pools/tick.ts";
import { listMembers } from "../../src/db/pools.ts";
import { createApp } from "../../src/routes/app.ts";
import { integrationReady } from "../integration/support/env.ts";
import { buildGuest, GUEST } from "../integration/support/guest.ts";
import { type SystemCore, systemCore } from "../integration/support/system-core.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";

const ready = integrationReady();
const T = "sec-authz";
const STORAGE = `berth-it-${T}`;
const IMAGE = `${T}-k`;
const NET = `${T}-nat`;
const PROFILE = `${T}-p`;
const POOL = `${T}-pool`;
const SECRET_UD = "#cloud-config\npassword: hunter2-secret\n";
const fixtures = new URL("../fixtures/guest/cache/", import.meta.url).pathname;

let core: SystemCore;
let api: ReturnType<typeof apiClient>;
const tok: Record<"alice" | "bob" | "root", string> = { alice: "", bob: "", root: "" };
const as = (who: keyof typeof tok) => ({ "x-auth-token": tok[who] });
const send = (who: keyof typeof tok | null, method: string, path: string, body?: unknown) =>
  api.send(method, path, who ? as(who) : {}, body);

/** A request whose answer may not be JSON (the raw XML route): its status and text. */
async function raw(who: keyof typeof tok | null, path: string): Promise<{ status: number; text: string }> {
  const res = await createApp(core).handle(
    new Request(`http://localhost${path}`, { headers: who ? as(who) : {} }),
  );
  return { status: res.status, text: await res.text() };
}

async function expectStatus(p: Promise<{ status: number; body: Json }>, want: number): Promise<Json> {
  const r = await p;
  if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

describe.if(ready)("authorization in core on real libvirtd (two users and an admin)", () => {
  let aliceVm = "";
  let importOp = "";
  beforeAll(async () => {
    buildGuest();
    const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
    const users = ["alice", "bob", "root"]
      .map((n) => `[[auth.users]]\nname = "${n}"\npassword_hash = "${hash}"\nadmin = ${n === "root"}\n`)
      .join("");
    core = await systemCore(
      STORAGE,
      `[images]\nimport_dirs = ["${fixtures}"]\n[auth]\nenabled = true\nmax_vms_per_user = 3\nmax_vcpus_per_user = 2\n${users}`,
    );
    api = apiClient(core);
    for (const n of ["alice", "bob", "root"] as const)
      tok[n] = issueToken(core, { name: n, admin: n === "root", tokenId: null }).token;
    const img = await expectStatus(
      send("root", "POST", "/v1/images?wait=true", {
        name: IMAGE,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
      200,
    );
    importOp = img.id;
    await expectStatus(
      send("root", "POST", "/v1/networks", { name: NET, mode: "nat", subnet: "192.168.171.0/24" }),
      201,
    );
    await expectStatus(
      send("root", "POST", "/v1/profiles", {
        name: PROFILE,
        cpus: 1,
        memory_mib: 256,
        root_disk_gb: 1,
        networks: [NET],
        user_data: SECRET_UD,
        boot: { mode: "kernel", kernel_image: IMAGE, cmdline: GUEST.cmdline },
      }),
      201,
    );
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    await send("root", "DELETE", `/v1/pools/${POOL}`);
    for (let i = 0; i < 20 && listMembers(core.db, POOL).length > 0; i++) {
      await tick(core);
      for (const op of core.ops.list({ status: "running" })) await core.ops.wait(op.id, 60);
    }
    for (const vm of (await send("root", "GET", "/v1/vms")).body ?? [])
      await send("root", "DELETE", `/v1/vms/${vm.name}?wait=true`);
    await send("root", "DELETE", `/v1/profiles/${PROFILE}`);
    await send("root", "DELETE", `/v1/networks/${NET}`);
    await send("root", "DELETE", `/v1/images/${IMAGE}`);
    await core.hv.call("pool.destroy", { pool: STORAGE }).catch(() => undefined);
    await core.hv.call("pool.undefine", { pool: STORAGE }).catch(() => undefined);
    await core.close();
  }, 300_000);

  test("a user gets 403 on images, sizes, profiles, networks (a bridge named --help too) and pools", async () => {
    const refused: [string, string, unknown][] = [
      ["POST", "/v1/images", { name: "shadow", kind: "disk", path: "/etc/shadow" }],
      ["PATCH", `/v1/images/${IMAGE}`, { name: "mine" }],
      ["DELETE", `/v1/images/${IMAGE}`, undefined],
      ["POST", "/v1/sizes", { name: "huge", vcpus: 1, memory_mib: 64 }],
      ["POST", "/v1/profiles", { name: "mine", cpus: 1, memory_mib: 64 }],
      ["PATCH", `/v1/profiles/${PROFILE}`, { cpus: 2 }],
      ["DELETE", `/v1/profiles/${PROFILE}`, undefined],
      ["POST", "/v1/networks", { name: "evil", bridge: "--help", vlan: 10 }],
      ["DELETE", `/v1/networks/${NET}`, undefined],
      ["POST", "/v1/pools", { name: "mine", profile: PROFILE, size: 1 }],
      ["POST", `/networks/evil`, { bridge: "--help", vlan: 10 }],
    ];
    for (const [method, path, body] of refused) {
      const r = await send("bob", method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 });
    }
    // The catalogue is readable, but where an image came from and where it lies on the host are not.
    for (const who of ["bob", null] as const) {
      const img = (await send(who, "GET", `/v1/images/${IMAGE}`)).body;
      expect({ path: img.path, source: img.source, sha256: img.sha256 }).toEqual({
        path: null,
        source: "",
        sha256: null,
      });
      const all = (await send(who, "GET", "/v1/images")).body as Json[];
      expect(JSON.stringify(all)).not.toContain(fixtures);
    }
    expect((await send("root", "GET", `/v1/images/${IMAGE}`)).body.source).toContain(fixtures);
    // Nothing of it happened.
    expect((await send("root", "GET", "/v1/networks/evil")).status).toBe(404);
    expect((await send("root", "GET", "/v1/images/shadow")).status).toBe(404);
    // Another user's operations are hidden: not listed, not shown, not cancellable.
    expect((await send("bob", "GET", `/v1/operations/${importOp}`)).status).toBe(404);
    expect((await send("bob", "DELETE", `/v1/operations/${importOp}`)).status).toBe(404);
    const ops = (await send("bob", "GET", "/v1/operations")).body as { id: string }[];
    expect(ops.map((o) => o.id)).not.toContain(importOp);
    expect((await send("root", "GET", `/v1/operations/${importOp}`)).status).toBe(200);
  });

  test("a user creates a VM from the catalogue and owns it; another user can neither see nor touch it", async () => {
    const op = await expectStatus(
      send("alice", "POST", "/v1/vms?wait=true", { name: `${T}-alice`, profile: PROFILE }),
      200,
    );
    expect(op.status).toBe("succeeded");
    expect(op.owner).toBe("alice");
    aliceVm = `${T}-alice`;
    expect((await send("alice", "GET", `/v1/vms/${aliceVm}`)).status).toBe(200);
    expect((await send("alice", "GET", `/v1/vms/${aliceVm}/console`)).status).toBe(200);
    const own = await raw("alice", `/v1/vms/${aliceVm}/xml?inactive=true`);
    expect(own.status).toBe(200);
    expect(own.text).toContain("<domain");
    for (const who of ["bob", null] as const)
      expect((await raw(who, `/v1/vms/${aliceVm}/xml?inactive=true`)).status).toBe(404);
    const tries: [string, string, unknown][] = [
      ["GET", `/v1/vms/${aliceVm}`, undefined],
      ["GET", `/v1/vms/${aliceVm}/console`, undefined],
      ["GET", `/v1/vms/${aliceVm}/addresses`, undefined],
      ["GET", `/v1/vms/${aliceVm}/snapshots`, undefined],
      ["GET", `/v1/vms/${aliceVm}/disks`, undefined],
      ["PATCH", `/v1/vms/${aliceVm}`, { tags: { mine: "yes" } }],
      ["POST", `/v1/vms/${aliceVm}/stop`, {}],
      ["POST", `/v1/vms/${aliceVm}/disks`, { size_gb: 1 }],
      ["POST", `/v1/vms/${aliceVm}/snapshots`, {}],
      ["DELETE", `/v1/vms/${aliceVm}`, undefined],
    ];
    for (const who of ["bob", null] as const) {
      for (const [method, path, body] of tries) {
        const r = await send(who, method, path, body);
        const want = who === null && method !== "GET" ? 401 : 404;
        expect({ who, method, path, status: r.status }).toEqual({ who, method, path, status: want });
      }
    }
    // Raw XML is an admin's tool: even the owner gets 403.
    expect((await api.send("PUT", `/v1/vms/${aliceVm}/xml`, as("alice"), { xml: own.text })).status).toBe(
      403,
    );
    const bobs = (await send("bob", "GET", "/v1/vms")).body as { name: string }[];
    expect(bobs.map((v) => v.name)).not.toContain(aliceVm);
    expect(((await send("root", "GET", "/v1/vms")).body as { name: string }[]).map((v) => v.name)).toContain(
      aliceVm,
    );
  }, 300_000);

  test("quotas cover created VMs: a second VM beyond max_vcpus_per_user is 403 and nothing is made", async () => {
    const r = await send("alice", "POST", "/v1/vms", { name: `${T}-alice2`, profile: PROFILE, cpus: 2 });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("quota_exceeded");
    expect((await send("root", "GET", `/v1/vms/${T}-alice2`)).status).toBe(404);
  });

  test("profiles' user_data is an admin's secret", async () => {
    for (const who of ["alice", null] as const) {
      const one = (await send(who, "GET", `/v1/profiles/${PROFILE}`)).body;
      expect(one.user_data).toBeUndefined();
      const all = (await send(who, "GET", "/v1/profiles")).body as Json[];
      expect(JSON.stringify(all)).not.toContain("hunter2");
    }
    expect((await send("root", "GET", `/v1/profiles/${PROFILE}`)).body.user_data).toBe(SECRET_UD);
  });

  test("a ready pool VM belongs to the pool: a user can change neither its tags nor its XML", async () => {
    await expectStatus(
      send("root", "POST", "/v1/pools", { name: POOL, profile: PROFILE, size: 1, ready_check: "running" }),
      201,
    );
    let member: string | undefined;
    for (let i = 0; i < 60 && !member; i++) {
      await tick(core);
      for (const op of core.ops.list({ status: "running" })) await core.ops.wait(op.id, 120);
      member = listMembers(core.db, POOL).find((m) => m.status === "ready")?.vm_name;
    }
    expect(member).toBeDefined();
    const vm = member as string;
    for (const who of ["alice", "bob"] as const) {
      expect((await send(who, "PATCH", `/v1/vms/${vm}`, { tags: { owner: who } })).status).toBe(404);
      expect((await send(who, "PUT", `/v1/vms/${vm}/xml`, { xml: "<domain/>" })).status).toBe(403);
      expect((await send(who, "POST", `/v1/pools/${POOL}/reset`, {})).status).toBe(403);
    }
    const tags = (await send("root", "GET", `/v1/vms/${vm}`)).body.tags;
    expect(tags.owner).toBeUndefined();
  }, 300_000);
});
