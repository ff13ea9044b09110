// [auth] in core: start-up refusal, users and users files, passwords, tokens, ownership and quotas.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword } from "../../../src/cli/hash-password.ts";
import { parseConfig } from "../../../src/config/load.ts";
import {
  assertSafeListen,
  assertVmActor,
  assertVmSecrets,
  assertVmVisible,
  authenticatePassword,
  authenticateToken,
  checkAuthConfig,
  checkQuota,
  hashToken,
  issueToken,
  listTokens,
  revokeToken,
  usersOf,
} from "../../../src/core/auth/index.ts";
import { AppError, ConfigError } from "../../../src/errors.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

const errorOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
};

let aliceHash: string;
let bobHash: string;
beforeAll(async () => {
  aliceHash = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
  bobHash = await Bun.password.hash("bob-pw", { algorithm: "argon2id" });
});

const authToml = (extra = "") => `[auth]
enabled = true
${extra}
[[auth.users]]
name = "alice"
password_hash = "${aliceHash}"
[[auth.users]]
name = "root"
password_hash = "${bobHash}"
admin = true
`;

describe("start-up refusal", () => {
  const cfg = (toml: string) => parseConfig(toml, "t");
  test("a loopback listen starts with auth off", () => {
    for (const l of ["127.0.0.1:8470", "127.1.2.3:1", "localhost:80", "[::1]:8470"]) {
      expect(() => assertSafeListen(cfg(`listen = "${l}"`))).not.toThrow();
    }
  });

  test("a non-loopback listen with auth off is refused with a ConfigError that says what to do", () => {
    for (const l of ["0.0.0.0:8470", "192.168.1.5:8470", "[::]:8470", "berth.example.com:80"]) {
      const e = errorOf(() => assertSafeListen(cfg(`listen = "${l}"`)));
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain(`listen ${l} is not a loopback address`);
      expect((e as Error).message).toContain("allow_insecure_listen");
    }
  });

  test("a front's own non-loopback listener with auth off is refused too, naming its key", () => {
    for (const front of ["vmpooler", "staging"]) {
      const e = errorOf(() => assertSafeListen(cfg(`[${front}]\nlisten = "0.0.0.0:8471"`)));
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain(`[${front}] listen 0.0.0.0:8471 is not a loopback address`);
    }
    expect(() => assertSafeListen(cfg('[vmpooler]\nlisten = "127.0.0.1:8471"'))).not.toThrow();
    expect(() => checkAuthConfig(cfg(`[vmpooler]\nlisten = "0.0.0.0:8471"\n${authToml()}`))).not.toThrow();
  });

  test("allow_insecure_listen or auth enabled lets it start", () => {
    expect(() =>
      assertSafeListen(cfg('listen = "0.0.0.0:8470"\n[auth]\nallow_insecure_listen = true')),
    ).not.toThrow();
    expect(() => checkAuthConfig(cfg(`listen = "0.0.0.0:8470"\n${authToml()}`))).not.toThrow();
  });

  test("auth enabled without any user is refused", () => {
    const e = errorOf(() => checkAuthConfig(cfg("[auth]\nenabled = true")));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain("no user is declared");
  });

  test("the defaults: auth off, 24 h tokens, no quota, no insecure listen", () => {
    expect(cfg("").auth).toEqual({
      enabled: false,
      users: [],
      users_file: "",
      token_lifetime_hours: 24,
      vm_lifetime_hours: 0,
      max_running_vms_per_user: 0,
      max_vms_per_user: 0,
      max_vcpus_per_user: 0,
      max_memory_mib_per_user: 0,
      max_disk_gb_per_user: 0,
      users_can_create: true,
      public_reads: false,
      allow_insecure_listen: false,
    });
  });

  test("a user entry with an unknown key or a hash that is no hash is a config error naming the key", () => {
    expect(() =>
      cfg('[[auth.users]]\nname = "a"\npassword_hash = "$argon2id$xxxxxxxxxxxxxxxxx"\nrole = "x"'),
    ).toThrow(/auth\.users\.0\.role: Unexpected property/);
    expect(() => cfg('[[auth.users]]\nname = "a"\npassword_hash = "plaintext-password-here"')).toThrow(
      /auth\.users\.0\.password_hash/,
    );
  });
});

describe("users files", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-auth-users-"));
  test("TOML and JSON files add users; admin defaults to false", () => {
    const tomlPath = join(dir, "users.toml");
    writeFileSync(tomlPath, `[[users]]\nname = "carol"\npassword_hash = "${aliceHash}"\nadmin = true\n`);
    const jsonPath = join(dir, "users.json");
    writeFileSync(jsonPath, JSON.stringify({ users: [{ name: "dave", password_hash: bobHash }] }));
    const fromToml = usersOf(parseConfig(`[auth]\nusers_file = "${tomlPath}"`, "t"));
    expect(fromToml.get("carol")?.admin).toBe(true);
    const fromJson = usersOf(parseConfig(authToml(`users_file = "${jsonPath}"`), "t"));
    expect([...fromJson.keys()].sort()).toEqual(["alice", "dave", "root"]);
    expect(fromJson.get("dave")?.admin).toBe(false);
  });

  test("a missing, malformed or invalid file, or a user declared twice, is a ConfigError", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{not json");
    const invalid = join(dir, "invalid.toml");
    writeFileSync(invalid, '[[users]]\nname = "x"\n');
    const dup = join(dir, "dup.toml");
    writeFileSync(dup, `[[users]]\nname = "alice"\npassword_hash = "${aliceHash}"\n`);
    const cases: [string, RegExp][] = [
      [join(dir, "absent.toml"), /absent\.toml: ENOENT/],
      [bad, /bad\.json: /],
      [invalid, /invalid\.toml is invalid:\n {2}.*users\.0\.password_hash/],
      [dup, /user alice is declared twice/],
    ];
    for (const [path, message] of cases) {
      const e = errorOf(() => checkAuthConfig(parseConfig(authToml(`users_file = "${path}"`), "t")));
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(message);
    }
  });
});

test("hash-password: argon2id of stdin without its trailing newline; empty input refused", async () => {
  const hash = await hashPassword("s3cret\n");
  expect(hash).toStartWith("$argon2id$");
  expect(await Bun.password.verify("s3cret", hash)).toBe(true);
  expect(await Bun.password.verify("s3cret\n", hash)).toBe(false);
  const e = await hashPassword("\n").then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as Error).message).toContain("empty");
});

describe("tokens, owners and quotas on a core", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  beforeAll(async () => {
    core = await testCore(testConfig(authToml("max_running_vms_per_user = 2")));
  });
  afterAll(() => core.close());

  const alice = { name: "alice", admin: false, tokenId: null };
  const root = { name: "root", admin: true, tokenId: null };

  test("passwords: right one → the user; wrong one or unknown user → 401 asking for Basic", async () => {
    expect(await authenticatePassword(core, "root", "bob-pw")).toEqual(root);
    for (const [u, p] of [
      ["alice", "bob-pw"],
      ["nobody", "alice-pw"],
      ["alice", ""],
    ] as const) {
      const e = await authenticatePassword(core, u, p).then(
        () => null,
        (x) => x,
      );
      expect(e).toMatchObject({ httpStatus: 401, errorCode: "unauthorized", challenge: "Basic" });
    }
  });

  test("a token is 43 base64url characters, stored only as its SHA-256, and authenticates its user", () => {
    const issued = issueToken(core, alice);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = core.db.query("SELECT * FROM tokens WHERE id = ?").get(issued.id) as Record<
      string,
      unknown
    >;
    expect(stored.token_hash).toBe(hashToken(issued.token));
    expect(JSON.stringify(stored)).not.toContain(issued.token);
    const hours = (Date.parse(issued.expires_at as string) - Date.parse(issued.created_at)) / 3_600_000;
    expect(hours).toBeCloseTo(24, 5);
    expect(authenticateToken(core, issued.token)).toEqual({ ...alice, tokenId: issued.id });
    expect(listTokens(core, alice).find((t) => t.id === issued.id)?.last_used_at).not.toBeNull();
  });

  test("unknown, empty, oversized and expired tokens are 401", () => {
    const issued = issueToken(core, alice);
    core.db.query("UPDATE tokens SET expires_at = ? WHERE id = ?").run("2000-01-01T00:00:00.000Z", issued.id);
    for (const [t, msg] of [
      [issued.token, "expired"],
      ["x".repeat(43), "invalid token"],
      ["", "invalid token"],
      ["y".repeat(10_000), "invalid token"],
    ] as const) {
      const e = errorOf(() => authenticateToken(core, t));
      expect(e).toMatchObject({ httpStatus: 401, challenge: "Bearer" });
      expect((e as Error).message).toContain(msg);
    }
  });

  test("revoke: own token yes; another user's is 404 like a missing one; admins may revoke any", () => {
    const a = issueToken(core, alice);
    const r = issueToken(core, root);
    expect(errorOf(() => revokeToken(core, alice, r.id))).toMatchObject({ httpStatus: 404 });
    expect(errorOf(() => revokeToken(core, alice, "no-such-id"))).toMatchObject({ httpStatus: 404 });
    revokeToken(core, alice, a.id);
    expect(errorOf(() => authenticateToken(core, a.token))).toMatchObject({ httpStatus: 401 });
    revokeToken(core, root, issueToken(core, alice).id);
    expect(authenticateToken(core, r.token).name).toBe("root");
  });

  /** A VM row (4 vCPU, 1024 MiB, one 10 GiB disk), checked out of pool p by `owner`, or created by `creator`. */
  const holdVm = (
    vm: string,
    owner: string | null,
    status = "checked_out",
    creator: string | null = null,
  ) => {
    const at = new Date().toISOString();
    insertVmRow(core.db, {
      id: `id-${vm}`,
      name: vm,
      owner: creator,
      vcpus: 4,
      memory_mib: 1024,
      diskBytes: 10 * 1024 ** 3,
    });
    if (owner !== null || status !== "checked_out")
      core.db
        .query(
          "INSERT INTO pool_vms (vm_name, pool, generation, status, created_at, owner) VALUES (?, 'p', 1, ?, ?, ?)",
        )
        .run(vm, status, at, owner);
  };

  test("VM access: the owner and admins act; others get 403 not_owner; pool VMs are admins' only; exact names", () => {
    holdVm("auth-core-owned", "alice");
    holdVm("auth-core-free", null, "ready");
    holdVm("auth-core-made", null, "checked_out", "alice");
    expect(() => assertVmActor(core, alice, "auth-core-owned")).not.toThrow();
    expect(() => assertVmActor(core, alice, "auth-core-made")).not.toThrow();
    expect(() => assertVmActor(core, root, "auth-core-owned")).not.toThrow();
    expect(() => assertVmActor(core, root, "auth-core-free")).not.toThrow();
    const other = { name: "mallory", admin: false, tokenId: null };
    // With public_reads off, another user's VM is hidden: 404 as if absent.
    for (const vm of ["auth-core-owned", "auth-core-made", "auth-core-free", "auth-core-absent"]) {
      expect(errorOf(() => assertVmActor(core, other, vm))).toMatchObject({ httpStatus: 404 });
      expect(errorOf(() => assertVmVisible(core, other, vm))).toMatchObject({ httpStatus: 404 });
      expect(errorOf(() => assertVmSecrets(core, other, vm))).toMatchObject({ httpStatus: 404 });
    }
    // A ready pool VM belongs to the pool: a user who does not own it cannot change it.
    expect(errorOf(() => assertVmActor(core, alice, "auth-core-free"))).toMatchObject({ httpStatus: 404 });
    expect(errorOf(() => assertVmActor(core, null, "auth-core-owned"))).toMatchObject({ httpStatus: 404 });
    // Exact names only: a prefix of an owned VM's name is another VM.
    expect(errorOf(() => assertVmActor(core, alice, "auth-core-own"))).toMatchObject({ httpStatus: 404 });
    expect(assertVmVisible(core, alice, "auth-core-owned")).toBe("full");
  });

  test("with public_reads a non-owner sees the public view, reads no secret and changes nothing (403)", async () => {
    const pub = await testCore(
      testConfig(
        `[auth]\nenabled = true\npublic_reads = true\n[[auth.users]]\nname = "alice"\npassword_hash = "${aliceHash}"`,
      ),
    );
    insertVmRow(pub.db, { id: "x", name: "pub-vm", owner: "alice" });
    const mallory = { name: "mallory", admin: false, tokenId: null };
    expect(assertVmVisible(pub, mallory, "pub-vm")).toBe("public");
    expect(assertVmVisible(pub, null, "pub-vm")).toBe("public");
    expect(errorOf(() => assertVmSecrets(pub, mallory, "pub-vm"))).toMatchObject({
      httpStatus: 403,
      errorCode: "not_owner",
    });
    expect(errorOf(() => assertVmActor(pub, mallory, "pub-vm"))).toMatchObject({
      httpStatus: 403,
      errorCode: "not_owner",
    });
    await pub.close();
  });

  test("checkQuota counts every VM the user owns (checked out or created) against max_running_vms_per_user", () => {
    holdVm("auth-quota-1", "quser");
    holdVm("auth-quota-ready", "quser", "ready");
    expect(() => checkQuota(core, "quser")).not.toThrow();
    expect(errorOf(() => checkQuota(core, "quser", 2))).toMatchObject({
      httpStatus: 403,
      errorCode: "quota_exceeded",
      details: { user: "quser", held: 1, max: 2, requested: 2 },
    });
    holdVm("auth-quota-2", null, "checked_out", "quser");
    expect(errorOf(() => checkQuota(core, { name: "quser", admin: false, tokenId: null }))).toMatchObject({
      httpStatus: 403,
    });
    expect(() => checkQuota(core, null, 100)).not.toThrow();
  });
});

test("quotas cover vCPUs, memory and disk of every VM a user owns", async () => {
  const hash = await Bun.password.hash("q", { algorithm: "argon2id" });
  const core = await testCore(
    testConfig(
      `[auth]\nenabled = true\nmax_vcpus_per_user = 6\nmax_memory_mib_per_user = 2048\nmax_disk_gb_per_user = 25\n[[auth.users]]\nname = "q"\npassword_hash = "${hash}"`,
    ),
  );
  insertVmRow(core.db, {
    id: "q1",
    name: "quota-vm",
    owner: "q",
    vcpus: 4,
    memory_mib: 1024,
    diskBytes: 20 * 1024 ** 3,
  });
  const q = { name: "q", admin: false, tokenId: null };
  expect(() =>
    checkQuota(core, q, { vms: 1, vcpus: 2, memory_mib: 1024, disk_bytes: 5 * 1024 ** 3 }),
  ).not.toThrow();
  expect(errorOf(() => checkQuota(core, q, { vcpus: 3 }))).toMatchObject({
    details: { quota: "vcpus", held: 4 },
  });
  expect(errorOf(() => checkQuota(core, q, { memory_mib: 1025 }))).toMatchObject({
    details: { quota: "memory_mib" },
  });
  expect(errorOf(() => checkQuota(core, q, { disk_bytes: 6 * 1024 ** 3 }))).toMatchObject({
    httpStatus: 403,
    details: { quota: "disk_bytes" },
  });
  // A gone VM holds nothing; admins' and berth's own work is not counted against anyone.
  core.db.query("UPDATE vms SET status = 'gone' WHERE id = 'q1'").run();
  expect(() => checkQuota(core, q, { vcpus: 6 })).not.toThrow();
  await core.close();
});

test("auth off: no ownership check, no quota (0 = unlimited)", async () => {
  const core = await testCore();
  core.db
    .query(
      "INSERT INTO pool_vms (vm_name, pool, generation, status, created_at, owner) VALUES (?, 'p', 1, ?, ?, ?)",
    )
    .run("auth-off-owned", "checked_out", new Date().toISOString(), "alice");
  expect(() => assertVmActor(core, null, "auth-off-owned")).not.toThrow();
  expect(() => checkQuota(core, "alice", 1000)).not.toThrow();
  expect(errorOf(() => issueToken(core, null))).toMatchObject({
    httpStatus: 404,
    errorCode: "auth_disabled",
  });
  await core.close();
});

describe("the CLI", () => {
  const main = new URL("../../../src/main.ts", import.meta.url).pathname;

  test("berth hash-password reads stdin and prints a hash that verifies", async () => {
    const proc = Bun.spawn(["bun", main, "hash-password"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    proc.stdin.write("from-stdin\n");
    await proc.stdin.end();
    const out = (await new Response(proc.stdout).text()).trim();
    expect(await proc.exited).toBe(0);
    expect(await Bun.password.verify("from-stdin", out)).toBe(true);
  });

  test("berth config check refuses a non-loopback listen with auth off (exit 1, says why)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-auth-cli-"));
    const file = join(dir, "berth.toml");
    writeFileSync(file, 'listen = "0.0.0.0:8470"\n');
    const proc = Bun.spawn(["bun", main, "config", "check", "--config", file], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain(
      "is not a loopback address and [auth] enabled is false",
    );
  });
});
