// Projects in core: the [[auth.users]] projects key, who is limited, public_reads within projects, and event streams.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import type { Caller } from "../../../src/core/auth/caller.ts";
import { eventFilterFor, projectsOf } from "../../../src/core/auth/index.ts";
import type { BerthEvent } from "../../../src/core/events.ts";
import { listProjects } from "../../../src/core/projects.ts";
import { getVm, listVmViews } from "../../../src/core/vms/index.ts";
import { insertOperation } from "../../../src/db/operations.ts";
import { ConfigError } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

const HASH = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const user = (name: string, extra = "") =>
  `[[auth.users]]\nname = "${name}"\npassword_hash = "${HASH}"\n${extra}\n`;
const USERS =
  user("alice", 'projects = ["a", "b"]') + user("bob") + user("root", 'admin = true\nprojects = ["a"]');
const caller = (name: string): Caller => ({ name, admin: name === "root", tokenId: null });

describe("the projects key of [[auth.users]]", () => {
  test("names are project names; an empty list or a repeated name is a config error naming the key", () => {
    const cfg = (projects: string) => () =>
      parseConfig(`[auth]\n${user("a", `projects = ${projects}`)}`, "t");
    expect(cfg('["0", "acme", "team_1"]')).not.toThrow();
    for (const bad of ['["a.b"]', '["-a"]', '[""]', "[]", '["a", "a"]', '"a"']) {
      expect(cfg(bad)).toThrow(ConfigError);
      expect(cfg(bad)).toThrow(/auth\.users\.0\.projects/);
    }
  });

  test("projectsOf: a limited user's set; null (any) for admins, users without the key, auth off, berth", () => {
    const core = { config: parseConfig(`[auth]\nenabled = true\n${USERS}`, "t") } as never;
    expect([...(projectsOf(core, caller("alice")) ?? [])]).toEqual(["a", "b"]);
    expect([...(projectsOf(core, "alice") ?? [])]).toEqual(["a", "b"]);
    expect(projectsOf(core, caller("bob"))).toBeNull();
    expect(projectsOf(core, caller("root"))).toBeNull();
    expect(projectsOf(core, "root")).toBeNull();
    expect(projectsOf(core, null)).toBeNull();
    expect(projectsOf(core, { name: "alice", admin: false, tokenId: null, system: true })).toBeNull();
    const off = { config: parseConfig(`[auth]\nenabled = false\n${USERS}`, "t") } as never;
    expect(projectsOf(off, caller("alice"))).toBeNull();
  });
});

describe("on a core with public_reads", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  beforeAll(async () => {
    core = await testCore(testConfig(`[auth]\nenabled = true\npublic_reads = true\n${USERS}`));
    insertVmRow(core.db, { id: "1", name: "cp-alice-a", owner: "alice", project: "a" });
    insertVmRow(core.db, { id: "2", name: "cp-alice-c", owner: "alice", project: "c" });
    insertVmRow(core.db, { id: "3", name: "cp-bob-b", owner: "bob", project: "b" });
    insertVmRow(core.db, { id: "4", name: "cp-bob-d", owner: "bob" });
  });
  afterAll(() => core.close());

  test("a limited user sees others' VMs in public view only inside their projects; others see all", async () => {
    const seen = async (who: string) => (await listVmViews(core, caller(who))).map((v) => v.name);
    expect(await seen("alice")).toEqual(["cp-alice-a", "cp-bob-b"]);
    expect(await seen("bob")).toEqual(["cp-alice-a", "cp-alice-c", "cp-bob-b", "cp-bob-d"]);
    expect((await listVmViews(core, caller("alice"), { project: "c" })).length).toBe(0);
    expect((await getVm(core, caller("alice"), "cp-bob-b")).project).toBe("b");
    await expect(getVm(core, caller("alice"), "cp-bob-d")).rejects.toThrow("vm cp-bob-d does not exist");
    await expect(getVm(core, caller("alice"), "cp-alice-c")).rejects.toThrow("vm cp-alice-c does not exist");
    // Anonymous readers are not limited to projects (public_reads is theirs as before).
    expect((await listVmViews(core, null)).length).toBe(4);
  });

  test("listProjects counts what the caller sees", () => {
    expect(listProjects(core, caller("alice"))).toEqual([
      { name: "a", vms: 1 },
      { name: "b", vms: 1 },
    ]);
    expect(listProjects(core, caller("root"))).toEqual([
      { name: "a", vms: 1 },
      { name: "b", vms: 1 },
      { name: "c", vms: 1 },
      { name: "default", vms: 1 },
    ]);
  });
});

describe("event streams of a limited user", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  beforeAll(async () => {
    core = await testCore(testConfig(`[auth]\nenabled = true\n${USERS}`));
    insertVmRow(core.db, { id: "e1", name: "ev-a", owner: "alice", project: "a" });
    insertVmRow(core.db, { id: "e2", name: "ev-c", owner: "alice", project: "c" });
    insertVmRow(core.db, { id: "e3", name: "ev-gone", owner: "alice", project: "b" });
    insertVmRow(core.db, { id: "e4", name: "ev-bob-c", owner: "bob", project: "c" });
  });
  afterAll(() => core.close());

  let n = 0;
  const ev = (target: string): BerthEvent => ({ id: ++n, time: "", type: "t", target, data: {} });
  const opOn = (vm: string, owner: string | null): string => {
    const id = `op-${vm}-${owner}`;
    insertOperation(core.db, { id, kind: "vm.create", target: `vm/${vm}`, created_at: "", owner });
    return id;
  };

  test("carry nothing of their VMs outside their projects, VM, domain or operation", () => {
    const alice = eventFilterFor(core, caller("alice"));
    expect(alice(ev("vm/ev-a"))).toBe(true);
    expect(alice(ev("domain/ev-a"))).toBe(true);
    expect(alice(ev("vm/ev-c"))).toBe(false);
    expect(alice(ev("domain/ev-c"))).toBe(false);
    expect(alice(ev(`operation/${opOn("ev-a", "alice")}`))).toBe(true);
    expect(alice(ev(`operation/${opOn("ev-c", "alice")}`))).toBe(false);
    // An unlimited user gets their VMs in every project; admins everything.
    const bob = eventFilterFor(core, caller("bob"));
    expect(bob(ev("vm/ev-bob-c"))).toBe(true);
    expect(eventFilterFor(core, caller("root"))(ev("vm/ev-c"))).toBe(true);
  });

  test("a VM moved out of their projects goes quiet; a deleted one they were shown still reports its deletion", () => {
    const alice = eventFilterFor(core, caller("alice"));
    expect(alice(ev("vm/ev-a"))).toBe(true);
    core.db.query("UPDATE vms SET project = 'c' WHERE id = 'e1'").run();
    expect(alice(ev("vm/ev-a"))).toBe(false);
    core.db.query("UPDATE vms SET project = 'b' WHERE id = 'e1'").run();
    expect(alice(ev("vm/ev-a"))).toBe(true);
    // ev-gone was in b when the stream opened; its deletion outlives the row.
    core.db.query("DELETE FROM vms WHERE id = 'e3'").run();
    expect(alice(ev("vm/ev-gone"))).toBe(true);
    core.db.query("DELETE FROM vms WHERE id = 'e2'").run();
    expect(alice(ev("vm/ev-c"))).toBe(false);
  });
});
