// The compiled binary: built with `bun run build`, run from another directory on the test driver.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { json } from "../support/http.ts";

const root = new URL("../..", import.meta.url).pathname;
const binary = join(root, "dist/berth");
const elsewhere = mkdtempSync(join(tmpdir(), "berth-bin-"));
/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}
const port = freePort();
const base = `http://127.0.0.1:${port}`;
let proc: ReturnType<typeof Bun.spawn> | null = null;

function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {
    ...process.env,
    BERTH_HYPERVISOR_URI: "test:///default",
    BERTH_DATA_DIR: join(elsewhere, "data"),
    BERTH_LISTEN: `127.0.0.1:${port}`,
    // The installed berth may hold PVC's port.
    BERTH_PVC_LISTEN: "",
    BERTH_SYSADM_ENABLED: "false",
    ...extra,
  };
  if (!extra.BERTH_CONFIG) delete e.BERTH_CONFIG;
  return e;
}

beforeAll(() => {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
}, 60_000);

afterAll(async () => {
  proc?.kill("SIGTERM");
  await proc?.exited;
});

test("`berth version` prints the version", () => {
  const r = Bun.spawnSync([binary, "version"], { cwd: elsewhere });
  expect(r.exitCode).toBe(0);
  expect(r.stdout.toString()).toMatch(/^berth \d+\.\d+\.\d+/);
});

test("`berth config check` exits 0 on a good file and 1 with the errors on a bad one", async () => {
  await Bun.write(join(elsewhere, "good.toml"), 'listen = "127.0.0.1:1"\n');
  await Bun.write(join(elsewhere, "bad.toml"), '[hypervisor]\ndomain_type = "xen"\nworkrs = 2\n');
  const good = Bun.spawnSync([binary, "config", "check", "--config", "good.toml"], { cwd: elsewhere });
  expect(good.exitCode).toBe(0);
  const bad = Bun.spawnSync([binary, "config", "check", "--config", "bad.toml"], { cwd: elsewhere });
  expect(bad.exitCode).toBe(1);
  const err = bad.stderr.toString();
  expect(err).toContain("hypervisor.domain_type");
  expect(err).toContain("hypervisor.workrs: Unexpected property");
});

test("`berth serve` refuses an explicit config file that does not exist", () => {
  const r = Bun.spawnSync([binary, "serve"], {
    cwd: elsewhere,
    env: env({ BERTH_CONFIG: join(elsewhere, "none.toml") }),
  });
  expect(r.exitCode).toBe(1);
  expect(r.stderr.toString()).toContain("does not exist");
});

test("`berth serve` from another directory answers /v1, /healthz and /openapi.json, and stops on SIGTERM", async () => {
  proc = Bun.spawn([binary, "serve"], { cwd: elsewhere, env: env(), stdout: "pipe", stderr: "pipe" });
  let res: Response | null = null;
  for (let i = 0; i < 200 && !res && proc.exitCode === null; i++) {
    res = await fetch(`${base}/healthz`).catch(() => null);
    if (!res) await Bun.sleep(50);
  }
  if (!res)
    throw new Error(`berth did not answer: ${await new Response(proc.stderr as ReadableStream).text()}`);
  expect(res.status).toBe(200);
  const v1 = await json(await fetch(`${base}/v1`));
  expect(v1.hypervisor_uri).toBe("test:///default");
  expect(v1.libvirt_version).toMatch(/^\d+\.\d+\.\d+$/);
  const doc = await json(await fetch(`${base}/openapi.json`));
  expect(doc.paths["/v1"]).toBeDefined();
  expect((await fetch(`${base}/docs/assets/scalar.js`)).status).toBe(200);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  proc = null;
}, 30_000);

test("under systemd's notify protocol it sends READY=1, WATCHDOG=1 and STOPPING=1", async () => {
  // Bun has no unix datagram sockets; python3 (on every machine of this kind) plays systemd's side.
  const sock = join(elsewhere, "notify.sock");
  const listener = Bun.spawn(
    [
      "python3",
      "-c",
      `import socket,sys
s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound",flush=True)
seen=set()
while not {"READY=1","WATCHDOG=1","STOPPING=1"} <= seen:
    for line in s.recv(4096).decode().split("\\n"):
        if line and line not in seen: seen.add(line); print(line,flush=True)`,
      sock,
    ],
    { stdout: "pipe" },
  );
  const reader = listener.stdout.getReader();
  const lines: string[] = [];
  const readLine = async () => {
    const { value } = await reader.read();
    lines.push(...new TextDecoder().decode(value).trim().split("\n"));
  };
  await readLine(); // bound
  const berth = Bun.spawn([binary, "serve"], {
    cwd: elsewhere,
    env: env({ NOTIFY_SOCKET: sock, WATCHDOG_USEC: "200000" }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const until = async (want: string) => {
    for (let i = 0; i < 50 && !lines.includes(want); i++) await readLine();
  };
  await until("READY=1");
  await until("WATCHDOG=1");
  berth.kill("SIGTERM");
  await until("STOPPING=1");
  expect(await berth.exited).toBe(0);
  expect(lines).toEqual(expect.arrayContaining(["READY=1", "WATCHDOG=1", "STOPPING=1"]));
  expect(await listener.exited).toBe(0);
}, 30_000);
