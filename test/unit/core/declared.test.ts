// Sizes and profiles declared in berth.toml: parsed and checked at load, applied at start as the source of truth.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import type { Core } from "../../../src/core/context.ts";
import { declaredProblems, syncDeclared } from "../../../src/core/declared.ts";
import { findProfile, listProfiles } from "../../../src/core/profiles.ts";
import { findSize, listSizes } from "../../../src/core/sizes.ts";
import { ConfigError } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore();
});
afterAll(() => core.close());

/** The same database and hypervisor, restarted with another config file. */
const restartedWith = (toml: string): Core => ({ ...core, config: testConfig(toml) });

function problems(toml: string): string[] {
  try {
    parseConfig(toml, "t.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const DECLARED = `
[[sizes]]
name = "1cpu256mb"
vcpus = 1
memory_mib = 256

[[sizes]]
name = "2cpu1g"
vcpus = 2
memory_mib = 1024

[[profiles]]
name = "web"
size = "1cpu256mb"
root_disk_gb = 12
ssh_keys = ["ssh-ed25519 AAAAC3Nza ops@example"]
[profiles.boot]
mode = "network"
location = "http://deb.example/tree"
[[profiles.disks]]
name = "data"
size_gb = 4
[[profiles.disks]]
name = "scratch"
size_gb = 1

[[profiles]]
name = "batch"
size = "2cpu1g"
`;

test("the config file parses nested profile tables and defaults to none", () => {
  const c = parseConfig(DECLARED, "t.toml");
  expect(c.sizes).toEqual([
    { name: "1cpu256mb", vcpus: 1, memory_mib: 256 },
    { name: "2cpu1g", vcpus: 2, memory_mib: 1024 },
  ]);
  expect(c.profiles[0]).toEqual({
    name: "web",
    size: "1cpu256mb",
    root_disk_gb: 12,
    ssh_keys: ["ssh-ed25519 AAAAC3Nza ops@example"],
    boot: { mode: "network", location: "http://deb.example/tree" },
    disks: [
      { name: "data", size_gb: 4 },
      { name: "scratch", size_gb: 1 },
    ],
  });
  expect(parseConfig("", "t").sizes).toEqual([]);
  expect(parseConfig("", "t").profiles).toEqual([]);
  expect(parseConfig("", "t").network.manage_bridges).toBe(true);
});

test("declared entries are checked at load: unknown keys, ranges, names, enums", () => {
  expect(problems('[[sizes]]\nname = "a"\nvcpus = 1\nmemory_mib = 64\ncolour = "red"')).toEqual([
    'sizes.0.colour: Unexpected property (got "red")',
  ]);
  expect(problems('[[sizes]]\nname = "a"\nvcpus = 0\nmemory_mib = 64')[0]).toStartWith("sizes.0.vcpus:");
  expect(problems('[[sizes]]\nname = "A b"\nvcpus = 1\nmemory_mib = 64')[0]).toStartWith("sizes.0.name:");
  expect(problems('[[profiles]]\nname = "p"\n[profiles.boot]\nmode = "pxe"')[0]).toStartWith(
    "profiles.0.boot.mode:",
  );
  expect(problems('[[profiles]]\nname = "p"\n[[profiles.disks]]\nname = "d"\nbus = "ide"')[0]).toStartWith(
    "profiles.0.disks.0.bus:",
  );
  expect(problems("[network]\nmanage_bridges = 1")[0]).toStartWith("network.manage_bridges:");
});

test("rules the schema cannot state are named per entry, and stop the sync before it changes anything", () => {
  const bad = testConfig(`
[[sizes]]
name = "s"
vcpus = 1
memory_mib = 64
[[sizes]]
name = "s"
vcpus = 2
memory_mib = 64
[[profiles]]
name = "p"
[profiles.boot]
mode = "kernel"
`);
  expect(declaredProblems(bad)).toEqual([
    "sizes: s is declared twice",
    "profiles.0 (p): boot mode kernel needs kernel_image",
  ]);
  expect(() => syncDeclared({ ...core, config: bad })).toThrow(ConfigError);
  expect(listSizes(core)).toEqual([]);
});

test("the first start creates what the file declares, with origin config; an API entry of that name is taken over", () => {
  core.db
    .query("INSERT INTO sizes (name, vcpus, memory_mib, origin) VALUES ('2cpu1g', 8, 8192, 'api')")
    .run();
  const report = syncDeclared(restartedWith(DECLARED));
  expect(report.sizes).toEqual({ applied: ["1cpu256mb", "2cpu1g"], removed: [], kept: [] });
  expect(report.profiles).toEqual({ applied: ["web", "batch"], removed: [], kept: [] });
  expect(findSize(core, "2cpu1g")).toEqual({ name: "2cpu1g", vcpus: 2, memory_mib: 1024, origin: "config" });
  expect(findProfile(core, "web")).toMatchObject({
    origin: "config",
    spec: { size: "1cpu256mb", root_disk_gb: 12 },
  });
  // A second start with the same file changes nothing.
  syncDeclared(restartedWith(DECLARED));
  expect(listSizes(core).map((s) => s.name)).toEqual(["1cpu256mb", "2cpu1g"]);
  expect(listProfiles(core, SYSTEM).map((p) => p.name)).toEqual(["batch", "web"]);
});

test("a later start removes what the file dropped, keeps (as API entries) what is still in use, updates the rest", () => {
  const at = new Date().toISOString();
  core.db
    .query(
      `INSERT INTO vms (id, name, status, vcpus, memory_mib, profile, boot, created_at, updated_at)
       VALUES ('decl-vm', 'decl-vm', 'stopped', 2, 1024, 'batch', '{"mode":"disk"}', ?, ?)`,
    )
    .run(at, at);
  // An API profile keeps the dropped size 1cpu256mb in use.
  core.db
    .query(
      "INSERT INTO profiles (name, spec, origin) VALUES ('api-small', '{\"size\":\"1cpu256mb\"}', 'api')",
    )
    .run();
  const report = syncDeclared(
    restartedWith(`
[[sizes]]
name = "2cpu1g"
vcpus = 2
memory_mib = 2048
`),
  );
  expect(report.profiles).toEqual({ applied: [], removed: ["web"], kept: ["batch"] });
  expect(report.sizes).toEqual({ applied: ["2cpu1g"], removed: [], kept: ["1cpu256mb"] });
  expect(findSize(core, "2cpu1g").memory_mib).toBe(2048);
  expect(findSize(core, "1cpu256mb").origin).toBe("api");
  expect(findProfile(core, "batch").origin).toBe("api");
  expect(() => findProfile(core, "web")).toThrow("does not exist");

  // Once nothing uses them they are ordinary API entries; the file no longer owns them.
  core.db.query("DELETE FROM vms WHERE id = 'decl-vm'").run();
  core.db.query("DELETE FROM profiles WHERE name = 'api-small'").run();
  // batch (now an API profile) still names 2cpu1g, so the file's size outlives its declaration.
  expect(syncDeclared(restartedWith("")).sizes).toEqual({ applied: [], removed: [], kept: ["2cpu1g"] });
  core.db.query("DELETE FROM profiles WHERE name = 'batch'").run();
  expect(listSizes(core)).toEqual([
    { name: "1cpu256mb", vcpus: 1, memory_mib: 256, origin: "api" },
    { name: "2cpu1g", vcpus: 2, memory_mib: 2048, origin: "api" },
  ]);
});

test("a declared profile naming something that does not exist yet is applied anyway (with a warning)", () => {
  const report = syncDeclared(
    restartedWith(`
[[profiles]]
name = "later"
size = "not-yet"
networks = ["lab"]
image = "debian"
`),
  );
  expect(report.profiles.applied).toEqual(["later"]);
  expect(findProfile(core, "later").spec).toEqual({ size: "not-yet", networks: ["lab"], image: "debian" });
});
