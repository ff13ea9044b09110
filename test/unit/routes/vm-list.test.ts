// GET /v1/vms from SQLite and the state map: the old path's bytes, no libvirt call, list levels, filters, pages, cache invalidation.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Elysia, t } from "elysia";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Caller } from "../../../src/core/auth/index.ts";
import { issueToken } from "../../../src/core/auth/index.ts";
import { listVmViews, type VmQuery } from "../../../src/core/vms/index.ts";
import { listVmsEncoded, type VmListQuery } from "../../../src/core/vms/list.ts";
import { vmStates } from "../../../src/core/vms/state-map.ts";
import { checkOutMember, insertMember, setLifetime } from "../../../src/db/pools.ts";
import { VmSchema } from "../../../src/routes/native/vm-schemas.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { recordCalls } from "../../support/hv-calls.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

const hash = await Bun.password.hash("pw");
const users = ["vla", "vlb", "vlroot"]
  .map((n) => `[[auth.users]]\nname = "${n}"\npassword_hash = "${hash}"\nadmin = ${n === "vlroot"}\n`)
  .join("");

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const token: Record<string, string> = {};
const callers: Record<string, Caller> = {
  root: { name: "vlroot", admin: true, tokenId: null },
  a: { name: "vla", admin: false, tokenId: null },
  b: { name: "vlb", admin: false, tokenId: null },
};
const P = `vl${process.pid}`;
const small = { cpus: 1, memory_mib: 128, root_disk_gb: 1 };

/** The body GET /v1/vms answered before this change: listVmViews' objects through its response schema, in the app's Elysia mode. */
async function oldBody(caller: Caller, q: VmQuery = {}): Promise<{ text: string; type: string | null }> {
  const app = new Elysia({ normalize: false }).get("/", () => listVmViews(core, caller, q), {
    response: t.Array(VmSchema),
  });
  const res = await app.handle(new Request("http://localhost/"));
  return { text: await res.text(), type: res.headers.get("content-type") };
}

async function get(who: string, path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await api.app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token[who]}` } }),
  );
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const names = async (who: string, path: string) =>
  (JSON.parse((await get(who, path)).text) as { name: string }[]).map((v) => v.name);

async function create(who: string, body: Record<string, unknown>): Promise<void> {
  const res = await api.send("POST", "/v1/vms?wait=true", { authorization: `Bearer ${token[who]}` }, body);
  expect(res.body.status).toBe("succeeded");
}

beforeAll(async () => {
  core = await testCore(
    testConfig(`[network]\nmanage_bridges = false\n[auth]\nenabled = true\npublic_reads = true\n${users}`),
  );
  api = apiClient(core);
  for (const [k, c] of Object.entries(callers)) token[k] = issueToken(core, c).token;
  const admin = { authorization: `Bearer ${token.root}` };
  expect(
    (await api.send("POST", "/v1/networks", admin, { name: `${P}n`, bridge: "br-vl-test", vlan: 10 })).status,
  ).toBe(201);
  await create("root", {
    name: `${P}-web-1`,
    ...small,
    tags: { team: "a" },
    description: "first",
    networks: [`${P}n`],
  });
  await create("root", { name: `${P}-web-2`, ...small, start: false, tags: { team: "ab" } });
  await create("root", { name: `${P}-db-1`, ...small, project: "data", ssh_keys: [], tags: { tier: "db" } });
  await create("a", { name: `${P}-alice-1`, ...small, start: false, description: "alice's café ☕" });
  // A pool member, checked out by vlb.
  insertVmRow(core.db, { id: `${P}-pool-id`, name: `${P}-pool-1`, status: "stopped" });
  insertMember(core.db, {
    vm_name: `${P}-pool-1`,
    pool: `${P}pool`,
    generation: 1,
    created_at: "2026-01-01T00:00:00Z",
  });
  core.db
    .query("UPDATE pool_vms SET status = 'ready', vm_id = ? WHERE vm_name = ?")
    .run(`${P}-pool-id`, `${P}-pool-1`);
  expect(
    checkOutMember(core.db, `${P}-pool-1`, {
      checked_out_at: "2026-01-01T00:00:00Z",
      owner: "vlb",
      lifetime_hours: 2,
      expires_at: "2026-01-01T02:00:00Z",
    }),
  ).toBe(true);
});
afterAll(async () => {
  for (const n of ["web-1", "web-2", "db-1", "alice-1"]) {
    await api.send("DELETE", `/v1/vms/${P}-${n}?wait=true`, { authorization: `Bearer ${token.root}` });
  }
  await core.close();
});

describe("the same bytes as before", () => {
  test("for an admin, an owner and a public reader, with each filter of the old API", async () => {
    const queries: VmQuery[] = [
      {},
      { state: "running" },
      { tag: "team=a" },
      { tag: "team" },
      { project: "data" },
      { name: `${P}-web-2` },
    ];
    for (const who of ["root", "a", "b"]) {
      for (const q of queries) {
        const caller = callers[who] as Caller;
        const old = await oldBody(caller, q);
        const search = new URLSearchParams(q as Record<string, string>).toString();
        const now = await get(who, `/v1/vms${search ? `?${search}` : ""}`);
        expect(now.status).toBe(200);
        expect(now.text).toBe(old.text);
        expect(now.headers.get("content-type")).toBe(old.type);
        expect((await listVmsEncoded(core, caller, { ...q, recursion: 1 })).body).toBe(old.text);
      }
    }
    // Not vacuous: the admin's list holds every kind of VM, the others a mix of whole and public views.
    const all = JSON.parse((await get("root", "/v1/vms")).text) as { name: string; nics: unknown[] }[];
    expect(all.map((v) => v.name)).toEqual(
      expect.arrayContaining([`${P}-web-1`, `${P}-db-1`, `${P}-pool-1`]),
    );
    expect(all.find((v) => v.name === `${P}-web-1`)?.nics).toHaveLength(1);
    const seenByA = JSON.parse((await get("a", "/v1/vms")).text) as { name: string; description: string }[];
    expect(seenByA.find((v) => v.name === `${P}-alice-1`)?.description).toBe("alice's café ☕");
    expect(seenByA.find((v) => v.name === `${P}-web-1`)?.description).toBe("");
  });
});

describe("no libvirt call per request", () => {
  test("twenty lists make no hypervisor call, and their states are libvirt's", async () => {
    await get("root", "/v1/vms"); // the first list may wait for the first full read
    const real = core.hv.call;
    const calls = recordCalls(core.hv);
    let listed: { name: string; state: string }[] = [];
    try {
      for (let i = 0; i < 20; i++) listed = JSON.parse((await get("root", "/v1/vms")).text);
    } finally {
      core.hv.call = real;
    }
    expect(calls).toEqual([]);
    const live = new Map((await core.hv.call("domain.states", {})).map((d) => [d.name, d.state]));
    expect(listed.length).toBeGreaterThan(4);
    for (const vm of listed) expect(vm.state).toBe(live.get(vm.name) ?? "absent");
    expect(listed.find((v) => v.name === `${P}-web-1`)?.state).toBe("running");
    expect(listed.find((v) => v.name === `${P}-web-2`)?.state).toBe("shutoff");
  });
});

describe("list levels", () => {
  test("recursion=0 answers /v1/vms/<name> for exactly the VMs recursion=1 shows, in order", async () => {
    const whole = await names("a", "/v1/vms?recursion=1");
    const urls = JSON.parse((await get("a", "/v1/vms?recursion=0")).text) as string[];
    expect(urls).toEqual(whole.map((n) => `/v1/vms/${n}`));
    expect(urls).toContain(`/v1/vms/${P}-alice-1`);
    expect((await get("root", "/v1/vms?recursion=1")).text).toBe((await get("root", "/v1/vms")).text);
  });

  test("recursion=2, a limit out of bounds and an unknown parameter are refused as bad requests", async () => {
    for (const q of [
      "recursion=2",
      "recursion=x",
      "limit=0",
      "limit=1001",
      "limit=-1",
      "after=",
      "colour=red",
      "pool=",
    ]) {
      const r = await get("root", `/v1/vms?${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(JSON.parse(r.text).error.code).toBeString();
    }
    expect((await get("root", "/v1/vms?limit=1000")).status).toBe(200);
  });
});

describe("filters (exact matches)", () => {
  test("pool and owner; a non-admin's owner filter matches only what they see whole", async () => {
    expect(await names("root", `/v1/vms?pool=${P}pool`)).toEqual([`${P}-pool-1`]);
    expect(await names("root", `/v1/vms?pool=${P}poo`)).toEqual([]);
    expect(await names("root", "/v1/vms?owner=vla")).toEqual([`${P}-alice-1`]);
    expect(await names("root", "/v1/vms?owner=vl")).toEqual([]);
    expect(await names("root", "/v1/vms?owner=vlb")).toEqual([`${P}-pool-1`]);
    // vlb sees vla's VM in public view, but may not learn whose it is.
    expect(await names("b", "/v1/vms")).toContain(`${P}-alice-1`);
    expect(await names("b", "/v1/vms?owner=vla")).toEqual([]);
    expect(await names("b", "/v1/vms?owner=vlb")).toEqual([`${P}-pool-1`]);
  });

  test("tags by key or key=value and projects, never by prefix", async () => {
    expect(await names("root", "/v1/vms?tag=team%3Da")).toEqual([`${P}-web-1`]);
    expect(await names("root", "/v1/vms?tag=team%3Dab")).toEqual([`${P}-web-2`]);
    expect(await names("root", "/v1/vms?tag=team")).toEqual([`${P}-web-1`, `${P}-web-2`]);
    expect(await names("root", "/v1/vms?tag=tea")).toEqual([]);
    expect(await names("root", "/v1/vms?project=data")).toEqual([`${P}-db-1`]);
    expect(await names("root", "/v1/vms?project=dat")).toEqual([]);
    expect(await names("root", "/v1/vms?state=stopped&tag=team")).toEqual([`${P}-web-2`]);
  });
});

describe("pages", () => {
  const mine = (list: string[]) => list.filter((n) => n.startsWith(`${P}-`));

  test("limit and the Link header walk every VM once, in order, keeping the filters", async () => {
    const all = await names("root", "/v1/vms");
    const walked: string[] = [];
    let path: string | null = "/v1/vms?limit=2&recursion=1";
    let pages = 0;
    while (path) {
      const r = await get("root", path);
      const page = JSON.parse(r.text) as { name: string }[];
      expect(page.length).toBeLessThanOrEqual(2);
      walked.push(...page.map((v) => v.name));
      const link = r.headers.get("link");
      path = link ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? null) : null;
      if (path) expect(path).toContain("recursion=1");
      pages++;
    }
    expect(walked).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 2));
    const r = await get("root", `/v1/vms?tag=team&limit=1`);
    expect(r.headers.get("link")).toBe(`</v1/vms?tag=team&limit=1&after=${P}-web-1>; rel="next"`);
    const last = await get("root", `/v1/vms?tag=team&limit=1&after=${P}-web-1`);
    expect(JSON.parse(last.text).map((v: { name: string }) => v.name)).toEqual([`${P}-web-2`]);
    expect(last.headers.get("link")).toBeNull();
  });

  test("after a name deleted meanwhile goes on with the next name; recursion=0 pages too", async () => {
    await create("root", { name: `${P}-gone`, ...small, start: false });
    const first = await get("root", `/v1/vms?recursion=0&limit=1&after=${P}-db-1`);
    expect(JSON.parse(first.text)).toEqual([`/v1/vms/${P}-gone`]);
    await api.send("DELETE", `/v1/vms/${P}-gone?wait=true`, { authorization: `Bearer ${token.root}` });
    const next = await get("root", `/v1/vms?recursion=0&limit=1&after=${P}-gone`);
    expect(JSON.parse(next.text)).toEqual([`/v1/vms/${P}-pool-1`]);
    expect(mine(await names("root", "/v1/vms"))).not.toContain(`${P}-gone`);
  });
});

describe("the cache follows every write", () => {
  /** The list equals a fresh build from the database: nothing stale served from the cache. */
  async function fresh(who = "root"): Promise<{ name: string; [k: string]: unknown }[]> {
    const now = await get(who, "/v1/vms");
    expect(now.text).toBe((await oldBody(callers[who] as Caller)).text);
    return JSON.parse(now.text);
  }
  const vm = (list: { name: string }[], n: string) =>
    list.find((v) => v.name === `${P}-${n}`) as Record<string, unknown>;

  test("tags and description through PATCH", async () => {
    await fresh();
    const admin = { authorization: `Bearer ${token.root}` };
    await api.send("PATCH", `/v1/vms/${P}-web-2`, admin, {
      tags: { team: "ab", new: "1" },
      description: "changed",
    });
    const list = await fresh();
    expect(vm(list, "web-2").tags).toEqual({ team: "ab", new: "1" });
    expect(vm(list, "web-2").description).toBe("changed");
  });

  test("a write by another connection (a Worker's own), to the VM and to its network", async () => {
    await fresh();
    const other = new Database(join(core.config.data_dir, "berth.db"));
    try {
      other.query("UPDATE vms SET description = 'from elsewhere' WHERE name = ?").run(`${P}-web-1`);
      expect(vm(await fresh(), "web-1").description).toBe("from elsewhere");
      other.query("UPDATE networks SET vlan = 11 WHERE name = ?").run(`${P}n`);
      expect((vm(await fresh(), "web-1").nics as { vlan: number }[])[0]?.vlan).toBe(11);
      other.query("DELETE FROM vm_nics WHERE vm_id = (SELECT id FROM vms WHERE name = ?)").run(`${P}-web-1`);
      expect(vm(await fresh(), "web-1").nics).toEqual([]);
    } finally {
      other.close();
    }
  });

  test("an owner taking a VM over, and a lifetime (not in this body) leave nothing stale", async () => {
    expect(vm(await fresh("a"), "pool-1").description).toBe("");
    core.db.query("UPDATE vms SET description = 'pool vm' WHERE name = ?").run(`${P}-pool-1`);
    expect(vm(await fresh("b"), "pool-1").description).toBe("pool vm");
    expect(vm(await fresh("a"), "pool-1").description).toBe("");
    core.db.query("UPDATE pool_vms SET owner = 'vla' WHERE vm_name = ?").run(`${P}-pool-1`);
    expect(vm(await fresh("a"), "pool-1").description).toBe("pool vm");
    expect(vm(await fresh("b"), "pool-1").description).toBe("");
    setLifetime(core.db, `${P}-pool-1`, 5, "2026-01-01T05:00:00Z");
    await fresh("a");
  });

  test("a state change with no write to the database (an event berth records nothing for)", async () => {
    expect(vm(await fresh(), "web-2").state).toBe("shutoff");
    vmStates(core.hv).set(`${P}-web-2`, "crashed");
    expect(vm(await fresh(), "web-2").state).toBe("crashed");
    vmStates(core.hv).set(`${P}-web-2`, "shutoff");
    expect(vm(await fresh(), "web-2").state).toBe("shutoff");
  });

  test("a state change: stop through the API, and a start libvirt reports by event", async () => {
    await fresh();
    const admin = { authorization: `Bearer ${token.root}` };
    expect((await api.send("POST", `/v1/vms/${P}-web-1/stop?wait=true`, admin)).status).toBe(200);
    let list = await fresh();
    expect([vm(list, "web-1").status, vm(list, "web-1").state]).toEqual(["stopped", "shutoff"]);
    // Started behind berth's back: only the lifecycle event tells.
    await core.hv.call("domain.create", { name: `${P}-web-1` });
    for (let i = 0; i < 100 && vm(list, "web-1").state !== "running"; i++) {
      await Bun.sleep(20);
      list = await fresh();
    }
    expect(vm(list, "web-1").state).toBe("running");
  });
});

test("SYSTEM lists whole objects like an admin", async () => {
  expect((await listVmsEncoded(core, SYSTEM, {} as VmListQuery)).body).toBe((await oldBody(SYSTEM)).text);
});
