// reloadConfig on a real core: the password throttle and its counts survive a reload; a failed one leaves the running config as it was.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passwordThrottle } from "../../../src/core/auth/throttle.ts";
import { reloadConfig } from "../../../src/reload.ts";
import { testConfig, testCore } from "../../support/core.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-reload-"));
const file = join(dir, "berth.toml");
let core: Awaited<ReturnType<typeof testCore>>;
let users = "";

beforeAll(async () => {
  users = `[[auth.users]]\nname = "dora"\npassword_hash = "${await Bun.password.hash("dora-pw", { algorithm: "argon2id" })}"\n`;
  core = await testCore(testConfig(`[auth]\nenabled = true\n${users}`));
}, 30_000);
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the password throttle (and what it counted) is the same after a reload", async () => {
  const before = passwordThrottle(core.config);
  writeFileSync(file, `[auth]\nenabled = true\n${users}`);
  expect(await reloadConfig(core, file)).toBe(true);
  expect(passwordThrottle(core.config)).toBe(before);
});

test("a reload that fails keeps the very config object berth runs with", async () => {
  const running = core.config;
  writeFileSync(file, `[auth]\nenabled = true\n${users}${users}`);
  expect(await reloadConfig(core, file)).toBe(false);
  expect(core.config).toBe(running);
});
