// SIGHUP to a spawned `berth serve` logging to [log] file: declared pools and users are reloaded, a bad file changes nothing, the log file is reopened after a rename.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/cli.ts";

const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "berth-hup-users-"));
const file = join(dir, "berth.toml");
const logPath = join(dir, "berth.log");
const port = freePort();
const url = `http://127.0.0.1:${port}`;
const hash = (pw: string) => Bun.password.hash(pw, { algorithm: "argon2id" });
let hashes: Record<string, string>;

const user = (name: string, pw: string, admin = false) =>
  `[[auth.users]]\nname = "${name}"\npassword_hash = "${hashes[pw]}"\nadmin = ${admin}\n`;
const pool = (name: string, size: number) =>
  `[[pools]]\nname = "${name}"\nimage = "nothing-yet"\nvm_size = "s1"\nsize = ${size}\n`;
const base = (extra: string) => `listen = "${url.slice(7)}"
data_dir = "${join(dir, "data")}"
[log]
file = "${logPath}"
[hypervisor]
uri = "test:///default"
[demo]
enabled = false
[[sizes]]
name = "s1"
vcpus = 1
memory_mib = 64
${extra}
[auth]
enabled = true
`;

let berth: ReturnType<typeof Bun.spawn>;
let stderr: Promise<string>;

/** The JSON lines of `path` (empty when it does not exist). */
const lines = (path = logPath) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

/** Sends SIGHUP and waits for the reload's outcome line in the log file now at `logPath`. */
async function hup(): Promise<Record<string, unknown>> {
  const from = lines().length;
  berth.kill("SIGHUP");
  for (let i = 0; i < 300; i++) {
    const hit = lines()
      .slice(from)
      .find((l) => l.msg === "config reloaded" || String(l.msg).startsWith("config reload failed"));
    if (hit) return hit;
    await Bun.sleep(50);
  }
  throw new Error(`no reload line; log:\n${readFileSync(logPath, "utf8")}`);
}

const auth = (name: string, pw: string) => ({
  authorization: `Basic ${Buffer.from(`${name}:${pw}`).toString("base64")}`,
});
const issue = async (name: string, pw: string) => {
  const r = await fetch(`${url}/v1/tokens`, { method: "POST", headers: auth(name, pw) });
  return { status: r.status, token: r.ok ? ((await r.json()) as { token: string }).token : "" };
};
/** A route that needs a token (listing one's tokens): 200 while the token's user exists. */
const withToken = async (token: string) =>
  (await fetch(`${url}/v1/tokens`, { headers: { authorization: `Bearer ${token}` } })).status;
const pools = async () =>
  ((await (await fetch(`${url}/v1/pools`)).json()) as { name: string; size: number }[])
    .map((p) => `${p.name}:${p.size}`)
    .sort();

beforeAll(async () => {
  hashes = { "a-pw": await hash("a-pw"), "a-pw2": await hash("a-pw2"), "b-pw": await hash("b-pw") };
  writeFileSync(file, base(`${pool("hup-p1", 0)}${user("alice", "a-pw", true)}${user("bob", "b-pw")}`));
  berth = Bun.spawn(["bun", join(root, "src/main.ts"), "serve", "--config", file], {
    env: { ...process.env, BERTH_CONFIG: "", BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
    stdout: "ignore",
    stderr: "pipe",
  });
  stderr = new Response(berth.stderr as ReadableStream).text();
  for (let i = 0; i < 300 && !lines().some((l) => l.msg === "berth serving"); i++) await Bun.sleep(50);
  expect(lines().some((l) => l.msg === "berth serving")).toBe(true);
}, 30_000);

afterAll(async () => {
  berth.kill("SIGKILL");
  await berth.exited;
  rmSync(dir, { recursive: true, force: true });
});

test("berth logs to [log] file, not stderr", async () => {
  expect(lines().some((l) => l.msg === "access" || l.msg === "berth serving")).toBe(true);
});

test("a bad file on SIGHUP (a missing users file, a pool declared twice) changes no pool, user or token", async () => {
  const bob = await issue("bob", "b-pw");
  expect(bob.status).toBe(201);
  writeFileSync(
    file,
    base(`${pool("hup-p2", 0)}${user("alice", "a-pw2", true)}users_file = "${join(dir, "absent.toml")}"\n`),
  );
  let out = await hup();
  expect(out.msg).toBe("config reload failed: the running config is kept");
  expect(String(out.error)).toContain("absent.toml");
  writeFileSync(file, base(`${pool("hup-p2", 0)}${pool("hup-p2", 1)}${user("alice", "a-pw2", true)}`));
  out = await hup();
  expect(String(out.error)).toContain("hup-p2 is declared twice");
  expect(await pools()).toEqual(["hup-p1:0"]);
  expect(await withToken(bob.token)).toBe(200);
  expect((await issue("alice", "a-pw")).status).toBe(201);
  expect((await issue("alice", "a-pw2")).status).toBe(401);
  expect(berth.exitCode).toBeNull();
}, 30_000);

test("SIGHUP applies declared pools and users: a removed user's tokens and password stop working, a new password works", async () => {
  const bob = await issue("bob", "b-pw");
  const alice = await issue("alice", "a-pw");
  expect(await withToken(bob.token)).toBe(200);
  writeFileSync(file, base(`${pool("hup-p1", 0)}${pool("hup-p2", 0)}${user("alice", "a-pw2", true)}`));
  const out = await hup();
  expect(out).toMatchObject({
    msg: "config reloaded",
    pools: { applied: ["hup-p1", "hup-p2"], removed: [] },
    users: { added: [], removed: ["bob"], changed: ["alice"] },
    tokens_revoked: 2,
  });
  expect(await pools()).toEqual(["hup-p1:0", "hup-p2:0"]);
  expect(await withToken(bob.token)).toBe(401);
  expect((await issue("bob", "b-pw")).status).toBe(401);
  // A changed password: the old one is refused, the new one works, the user's tokens stay valid.
  expect((await issue("alice", "a-pw")).status).toBe(401);
  expect((await issue("alice", "a-pw2")).status).toBe(201);
  expect(await withToken(alice.token)).toBe(200);
  // The revocations are audited.
  expect(lines().filter((l) => l.msg === "token.revoked" && l.target === "user/bob")).toHaveLength(2);
  // A pool the file drops is removed; a setting a reload cannot apply is named as waiting for a restart.
  const from = lines().length;
  writeFileSync(
    file,
    base(`${pool("hup-p2", 0)}${user("alice", "a-pw2", true)}[scheduler]\ninterval_s = 7\n`),
  );
  expect(await hup()).toMatchObject({ pools: { applied: ["hup-p2"], removed: ["hup-p1"] } });
  expect(await pools()).toEqual(["hup-p2:0"]);
  expect(lines().slice(from)).toContainEqual(
    expect.objectContaining({
      level: "warn",
      msg: "changed in the config file, applied at the next restart",
      keys: ["scheduler"],
    }),
  );
}, 30_000);

test("after logrotate's rename, SIGHUP reopens the log file: new lines go to a new file at the path", async () => {
  const rotated = `${logPath}.1`;
  // Lines are written in order, after the answer: once this request's line is in, every earlier one is.
  await fetch(`${url}/v1/sizes`);
  for (let i = 0; i < 100 && !lines().some((l) => l.msg === "access" && l.path === "/v1/sizes"); i++)
    await Bun.sleep(20);
  renameSync(logPath, rotated);
  const before = lines(rotated).length;
  berth.kill("SIGHUP");
  for (let i = 0; i < 300 && !lines().some((l) => l.msg === "config reloaded"); i++) await Bun.sleep(50);
  expect(lines().some((l) => l.msg === "config reloaded")).toBe(true);
  await fetch(`${url}/v1/pools`);
  await Bun.sleep(100);
  expect(lines().some((l) => l.msg === "access" && l.path === "/v1/pools")).toBe(true);
  // The renamed file gets the reload's own first lines, never its outcome or a request after it.
  const after = lines(rotated).slice(before);
  expect(after.filter((l) => l.msg === "config reloaded" || l.msg === "access")).toEqual([]);
  berth.kill("SIGTERM");
  await berth.exited;
  expect(await stderr).toBe("");
}, 30_000);
