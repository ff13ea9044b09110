// install.sh --uninstall --purge in a scratch root (BERTH_ROOT): a real berth on real libvirtd with a running tiny-guest VM; the VM is stopped and undefined before its disk goes, or the script refuses. The machine's own berth is never touched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { binary, buildBinary, freePort } from "../support/cli.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, GUEST } from "./support/guest.ts";

const ready = integrationReady();
const repo = new URL("../..", import.meta.url).pathname;
const tag = `uninst${process.pid}`;
const vm = `${tag}-vm`;
const storagePool = `berth-it-${tag}`;
const port = freePort();
const url = `http://127.0.0.1:${port}`;
// The scratch root: every path install.sh touches in these tests is under it.
const root = mkdtempSync("/tmp/berth-uninstall-");
const at = (p: string) => join(root, p);
let berthPid = 0;
let berthProc: ReturnType<typeof Bun.spawn> | null = null;

/** The machine's own berth, which must come out of these tests as it went in. */
const HOST_FILES = ["/etc/berth/berth.toml", "/run/berth.pid", "/usr/local/bin/berth"];
const fingerprint = () =>
  HOST_FILES.map((f) =>
    existsSync(f) ? createHash("sha256").update(readFileSync(f)).digest("hex") : "absent",
  );
const hostHealth = async () =>
  fetch("http://127.0.0.1:8470/healthz", { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );
let hostBefore: { files: string[]; health: number };

const virsh = (...args: string[]) => run(["virsh", "-c", SYSTEM_URI, ...args]);
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

/** Runs install.sh with BERTH_ROOT set to the scratch root, never without it. */
async function installSh(args: string[], env: Record<string, string> = {}) {
  if (!root.startsWith("/tmp/berth-uninstall-")) throw new Error(`not a scratch root: ${root}`);
  // A script that ignored BERTH_ROOT would uninstall the machine's own berth: never run one.
  if (!readFileSync(join(repo, "install.sh"), "utf8").includes(["ROOT=", '"$', '{BERTH_ROOT:-}"'].join("")))
    throw new Error("install.sh does not honour BERTH_ROOT: not run");
  const e: Record<string, string | undefined> = { ...process.env, ...env, BERTH_ROOT: root };
  for (const k of ["BERTH_CONFIG", "BERTH_LISTEN", "BERTH_DATA_DIR", "CI"]) delete e[k];
  const p = Bun.spawn(["bash", join(repo, "install.sh"), ...args], {
    env: e,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, out, err };
}

beforeAll(async () => {
  if (!ready) return;
  hostBefore = { files: fingerprint(), health: await hostHealth() };
  buildGuest();
  buildBinary();
  // QEMU (libvirt-qemu) traverses the root to reach the VM's disk in <data_dir>/pool.
  chmodSync(root, 0o755);
  for (const d of ["usr/local/bin", "etc/berth", "var/lib", "var/log", "run"])
    mkdirSync(at(d), { recursive: true, mode: 0o755 });
  copyFileSync(binary, at("usr/local/bin/berth"));
  chmodSync(at("usr/local/bin/berth"), 0o755);
  writeFileSync(
    at("etc/berth/berth.toml"),
    `listen = "127.0.0.1:${port}"
data_dir = "${at("var/lib/berth")}"
[hypervisor]
uri = "${SYSTEM_URI}"
domain_type = "qemu"
workers = 2
[storage]
pool = "${storagePool}"
[images]
import_dirs = ["${dirname(GUEST.kernel)}"]
[network]
manage_bridges = false
[demo]
enabled = false
[pvc]
listen = ""
[sysadm]
enabled = false
`,
  );
  // Started as install.sh starts it without systemd: the installed binary, its pid in the root's pid file.
  berthProc = Bun.spawn([at("usr/local/bin/berth"), "serve", "--config", at("etc/berth/berth.toml")], {
    env: { ...process.env, BERTH_CONFIG: "", BERTH_LOG_FILE: at("var/log/berth.log") },
    stdout: "ignore",
    stderr: "ignore",
  });
  berthPid = berthProc.pid;
  writeFileSync(at("run/berth.pid"), `${berthPid}\n`);
  for (let i = 0; i < 200; i++) {
    if (
      (await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      break;
    await Bun.sleep(100);
  }
  await api("POST", "/v1/images?wait=true", {
    name: `${tag}-k`,
    kind: "kernel",
    kernel: { path: GUEST.kernel },
    initrd: { path: GUEST.initrd },
  });
  await api("POST", "/v1/profiles", {
    name: `${tag}-p`,
    cpus: 1,
    memory_mib: 128,
    root_disk_gb: 1,
    boot: { mode: "kernel", kernel_image: `${tag}-k`, cmdline: GUEST.cmdline },
  });
  await api("POST", "/v1/vms?wait=true", { name: vm, profile: `${tag}-p` });
}, 300_000);

afterAll(async () => {
  if (!ready) return;
  // Only what this file made: its own berth by pid, its VM and storage pool by their unique names.
  if (berthProc && berthProc.exitCode === null) {
    berthProc.kill("SIGKILL");
    await berthProc.exited;
  }
  if (virsh("dominfo", vm).ok) {
    virsh("destroy", vm);
    virsh("undefine", vm, "--nvram");
  }
  if (virsh("pool-info", storagePool).ok) {
    virsh("pool-destroy", storagePool);
    virsh("pool-undefine", storagePool);
  }
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!ready)("install.sh --uninstall --purge in a scratch root", () => {
  let disk = "";

  test("the VM runs, its disk is in the scratch data directory", async () => {
    const info = await api("GET", `/v1/vms/${vm}`);
    expect(info.state).toBe("running");
    const disks = (await api("GET", `/v1/vms/${vm}/disks`)) as { path: string }[];
    disk = disks[0]?.path ?? "";
    expect(disk.startsWith(at("var/lib/berth/"))).toBe(true);
    expect(existsSync(disk)).toBe(true);
    expect(virsh("domstate", vm).out.trim()).toBe("running");
  });

  test("logrotate with deploy/logrotate/berth (paths under the root, as install.sh writes it) rotates the log and berth reopens it", async () => {
    const conf = at("logrotate.conf");
    writeFileSync(
      conf,
      readFileSync(join(repo, "deploy/logrotate/berth"), "utf8")
        .replaceAll("/var/log/berth.log", at("var/log/berth.log"))
        .replaceAll("/run/berth.pid", at("run/berth.pid")),
    );
    const r = run(["logrotate", "-f", "-s", at("logrotate.state"), conf]);
    expect(r).toEqual({ ok: true, out: "" });
    expect(existsSync(at("var/log/berth.log.1"))).toBe(true);
    const reopened = () =>
      existsSync(at("var/log/berth.log")) ? readFileSync(at("var/log/berth.log"), "utf8") : "";
    for (let i = 0; i < 100 && !reopened().includes('"msg":"config reloaded"'); i++) await Bun.sleep(50);
    expect(reopened()).toContain('"msg":"config reloaded"');
    expect(berthProc?.exitCode).toBeNull();
  }, 30_000);

  test("with libvirt out of reach it refuses, says why, and removes nothing: the VM keeps running on its disk", async () => {
    const r = await installSh(["--uninstall", "--purge"], {
      BERTH_HYPERVISOR_URI: `qemu+unix:///system?socket=${at("no-such-libvirt-sock")}`,
    });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("refusing to purge");
    expect(r.err).toContain("unreachable");
    // berth itself was stopped first (its pid from the root's pid file), as an uninstall does.
    await berthProc?.exited;
    expect(virsh("domstate", vm).out.trim()).toBe("running");
    expect(existsSync(disk)).toBe(true);
    expect(existsSync(at("etc/berth/berth.toml"))).toBe(true);
    expect(existsSync(at("usr/local/bin/berth"))).toBe(true);
  }, 120_000);

  test("it stops and undefines berth's VM, removes its storage pool, then purges the root's files", async () => {
    const r = await installSh(["--uninstall", "--purge"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    const stopped = lines.indexOf(`berth teardown: stopped domain ${vm}`);
    const undefined_ = lines.indexOf(`berth teardown: undefined domain ${vm}`);
    const purged = lines.findIndex((l) => l.startsWith("berth-install: purged"));
    expect(stopped).toBeGreaterThanOrEqual(0);
    expect(undefined_).toBeGreaterThan(stopped);
    expect(purged).toBeGreaterThan(undefined_);
    expect(virsh("dominfo", vm).ok).toBe(false);
    expect(virsh("pool-info", storagePool).ok).toBe(false);
    expect(existsSync(disk)).toBe(false);
    for (const p of [
      "etc/berth",
      "var/lib/berth",
      "usr/local/bin/berth",
      "var/log/berth.log",
      "run/berth.pid",
    ])
      expect(existsSync(at(p))).toBe(false);
  }, 120_000);

  test("the machine's own berth and its files are as they were", async () => {
    expect(fingerprint()).toEqual(hostBefore.files);
    expect(await hostHealth()).toBe(hostBefore.health);
  });
});
