// SIGHUP to a spawned `berth serve`: the log level and declared sizes are reloaded; a broken file changes nothing and berth serves on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/cli.ts";

const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "berth-sighup-"));
const file = join(dir, "berth.toml");
const port = freePort();
const base = (extra: string) =>
  `listen = "127.0.0.1:${port}"\ndata_dir = "${join(dir, "data")}"\n${extra}[hypervisor]\nuri = "test:///default"\n`;
const size = (name: string) => `[[sizes]]\nname = "${name}"\nvcpus = 1\nmemory_mib = 64\n`;

let berth: ReturnType<typeof Bun.spawn>;
const lines: Record<string, unknown>[] = [];
let reading: Promise<void>;

/** Waits until a log line matching `pred` appears after the first `from` lines, and returns it. */
async function logged(from: number, pred: (l: Record<string, unknown>) => boolean) {
  for (let i = 0; i < 300; i++) {
    const hit = lines.slice(from).find(pred);
    if (hit) return hit;
    await Bun.sleep(50);
  }
  throw new Error(`no such log line; got:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
}
const sizes = async () =>
  ((await (await fetch(`http://127.0.0.1:${port}/v1/sizes`)).json()) as { name: string }[]).map(
    (s) => s.name,
  );

beforeAll(async () => {
  writeFileSync(file, base(`log_level = "info"\n${size("hup-a")}`));
  berth = Bun.spawn(["bun", join(root, "src/main.ts"), "serve", "--config", file], {
    env: { ...process.env, BERTH_CONFIG: "", BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
    stdout: "ignore",
    stderr: "pipe",
  });
  reading = (async () => {
    let rest = "";
    for await (const chunk of berth.stderr as ReadableStream<Uint8Array>) {
      rest += new TextDecoder().decode(chunk);
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      for (const p of parts) lines.push(JSON.parse(p));
    }
  })();
  await logged(0, (l) => l.msg === "berth serving");
}, 30_000);

afterAll(async () => {
  berth.kill("SIGKILL");
  await berth.exited;
  await reading.catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test("SIGHUP applies new declared sizes and the log level, and logs what changed", async () => {
  expect(await sizes()).toContain("hup-a");
  writeFileSync(file, base(`log_level = "warn"\n${size("hup-b")}`));
  const from = lines.length;
  berth.kill("SIGHUP");
  const line = await logged(from, (l) => l.msg === "config reloaded");
  expect(line).toMatchObject({
    level: "info",
    log_level: "info -> warn",
    sizes: { applied: ["hup-b"], removed: ["hup-a"] },
  });
  const now = await sizes();
  expect(now).toContain("hup-b");
  expect(now).not.toContain("hup-a");
  // At warn, a request's access line (info) is no longer written.
  const after = lines.length;
  await sizes();
  await Bun.sleep(200);
  expect(lines.slice(after).filter((l) => l.msg === "access")).toEqual([]);
}, 30_000);

test("a broken file on SIGHUP is logged, changes nothing, and berth keeps serving", async () => {
  writeFileSync(file, base(`log_level = "info"\n${size("hup-b")}${size("hup-b")}`));
  let from = lines.length;
  berth.kill("SIGHUP");
  const failed = await logged(from, (l) => l.msg === "config reload failed: the running config is kept");
  expect(failed).toMatchObject({ level: "error" });
  expect(String(failed.error)).toContain("hup-b is declared twice");
  writeFileSync(file, "listen = [");
  from = lines.length;
  berth.kill("SIGHUP");
  await logged(from, (l) => l.msg === "config reload failed: the running config is kept");
  expect(berth.exitCode).toBeNull();
  expect(await sizes()).toEqual(expect.arrayContaining(["hup-b"]));
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
}, 30_000);
