// Builds berth's tiny guest (Debian cloud kernel + busybox initramfs) from packages, never installing them on the host.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../errors.ts";
import guestInit from "./guest-init.sh" with { type: "text" };

/** Bumped whenever the build's output changes for the same init script. */
const BUILDER_REVISION = "1";

/** Loaded by the guest's init in this order (busybox insmod resolves no dependencies). */
const MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_legacy_dev",
  "virtio_pci_modern_dev",
  "virtio_pci",
  "failover",
  "net_failover",
  "virtio_net",
  "virtio_blk", // disks on bus virtio (vdX); the cloud kernel has no AHCI or USB, so sata/usb disks stay unseen
  "scsi_common",
  "scsi_mod",
  "virtio_scsi",
  "sd_mod",
  "cdrom", // SCSI CD-ROMs and ISO 9660: the cloud-init config drive (cidata)
  "sr_mod",
  "isofs",
  "button", // these two only with berth.acpi=1
  "evdev",
];

/** The udhcpc event script: sets the lease and announces it on the console. */
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    echo "BERTH-GUEST: ip $interface $ip" >/dev/console ;;
esac
exit 0
`;

export interface TinyGuest {
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** False when the files in `dir` were already up to date. */
  built: boolean;
}

const STEP_TIMEOUT_MS = 600_000;

export function tinyGuestFiles(dir: string) {
  return { kernel: join(dir, "vmlinuz"), initrd: join(dir, "initramfs.img"), stamp: join(dir, "stamp") };
}

/** What the output depends on: the init script and this builder. */
function stampOf(): string {
  return createHash("sha256").update(BUILDER_REVISION).update(guestInit).digest("hex");
}

function failed(step: string, detail: string): AppError {
  return new AppError(500, "guest_build_failed", `tiny guest build: ${step}: ${detail.trim().slice(-2000)}`);
}

/** Runs argv (never a shell) and returns its stdout; a non-zero exit is an error naming the step. */
function run(argv: string[], opts: { cwd?: string; stdin?: Uint8Array } = {}): Buffer {
  const r = Bun.spawnSync(argv, {
    cwd: opts.cwd,
    stdin: opts.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: STEP_TIMEOUT_MS,
  });
  if (r.exitCode !== 0) throw failed(argv.slice(0, 2).join(" "), r.stderr.toString() || `exit ${r.exitCode}`);
  return r.stdout;
}

/** `apt-get download`, refreshing the package lists once when the first try fails. */
function aptDownload(cwd: string, packages: string[]): void {
  const argv = ["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", ...packages];
  try {
    run(argv, { cwd });
  } catch {
    run(["apt-get", "-q", "update"]);
    run(argv, { cwd });
  }
}

const debOf = (dir: string, pkg: string) => {
  const f = readdirSync(dir).find((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb"));
  if (!f) throw failed("apt-get download", `no ${pkg} package downloaded`);
  return join(dir, f);
};

/** The versioned kernel package the cloud kernel metapackage depends on (linux-image-6.1.0-NN-cloud-amd64). */
function kernelPackage(meta: string): string {
  const depends = run(["dpkg-deb", "-f", meta, "Depends"]).toString();
  const m = /linux-image-[0-9][^\s,(]*-cloud-amd64/.exec(depends);
  if (!m) throw failed("dpkg-deb -f", `no versioned kernel in ${meta}'s Depends: ${depends}`);
  return m[0];
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}

/** A module's bytes, decompressed (busybox insmod may not read .ko.xz/.ko.zst). */
function moduleBytes(file: string): Uint8Array {
  if (file.endsWith(".ko")) return readFileSync(file);
  if (file.endsWith(".ko.zst")) return Bun.zstdDecompressSync(readFileSync(file));
  if (file.endsWith(".ko.gz")) return Bun.gunzipSync(readFileSync(file));
  if (file.endsWith(".ko.xz")) return run(["xz", "-dc", file]);
  throw failed("modules", `unknown module format ${file}`);
}

async function copyModules(modDir: string, dest: string): Promise<void> {
  const all = await filesUnder(join(modDir, "kernel"));
  const builtin = existsSync(join(modDir, "modules.builtin"))
    ? readFileSync(join(modDir, "modules.builtin"), "utf8")
    : "";
  for (const m of MODULES) {
    const rel = all.find(
      (f) =>
        /\.ko(\.(xz|zst|gz))?$/.test(f) &&
        f
          .split("/")
          .at(-1)
          ?.replace(/\.ko.*$/, "") === m,
    );
    if (!rel) {
      if (builtin.split("\n").some((l) => l.endsWith(`/${m}.ko`))) continue;
      throw failed("modules", `module ${m} not found under ${modDir}`);
    }
    await writeFile(join(dest, `${m}.ko`), moduleBytes(join(modDir, "kernel", rel)));
  }
}

/** A newc cpio archive of `root` (sorted, owned by root), gzipped. */
async function initramfs(root: string): Promise<Uint8Array> {
  const names = [".", ...(await filesUnder(root)).sort()].map((n) => (n === "." ? "." : `./${n}`));
  const list = new TextEncoder().encode(`${names.join("\0")}\0`);
  const r = Bun.spawnSync(["cpio", "--null", "-o", "-H", "newc", "--owner=0:0", "--quiet"], {
    cwd: root,
    stdin: list,
    stdout: "pipe",
    stderr: "pipe",
    timeout: STEP_TIMEOUT_MS,
  });
  if (r.exitCode !== 0) throw failed("cpio", r.stderr.toString());
  return Bun.gzipSync(new Uint8Array(r.stdout), { level: 9 });
}

/**
 * Builds vmlinuz + initramfs.img into `dir` (atomically: each file is renamed into place), or does
 * nothing when `dir` already holds this builder's output. Needs apt-get, dpkg-deb and cpio.
 */
export async function buildTinyGuest(dir: string, log: (msg: string) => void = () => {}): Promise<TinyGuest> {
  const out = tinyGuestFiles(dir);
  const stamp = stampOf();
  const version = () => readFileSync(join(dir, "kernel-version"), "utf8").trim();
  if (existsSync(out.kernel) && existsSync(out.initrd) && existsSync(out.stamp)) {
    if (readFileSync(out.stamp, "utf8").trim() === stamp) {
      return { kernel: out.kernel, initrd: out.initrd, kernelVersion: version(), built: false };
    }
  }
  await mkdir(dir, { recursive: true });
  const work = mkdtempSync(join(dir, ".work-"));
  try {
    const debs = join(work, "debs");
    await mkdir(debs);
    log("downloading linux-image-cloud-amd64 and busybox-static (apt-get download)");
    aptDownload(debs, ["linux-image-cloud-amd64", "busybox-static"]);
    const kpkg = kernelPackage(debOf(debs, "linux-image-cloud-amd64"));
    aptDownload(debs, [kpkg]);
    const kver = kpkg.slice("linux-image-".length);
    log(`unpacking ${kpkg} and busybox-static (dpkg-deb -x)`);
    run(["dpkg-deb", "-x", debOf(debs, kpkg), join(work, "kernel")]);
    run(["dpkg-deb", "-x", debOf(debs, "busybox-static"), join(work, "busybox")]);

    const root = join(work, "root");
    for (const d of ["bin", "sbin", "etc", "lib/modules", "proc", "sys", "dev", "tmp", "run"]) {
      await mkdir(join(root, d), { recursive: true });
    }
    await writeFile(join(root, "bin/busybox"), readFileSync(join(work, "busybox/bin/busybox")), {
      mode: 0o755,
    });
    run(["ln", "-s", "busybox", join(root, "bin/sh")]); // the other applets: busybox --install -s at boot
    await writeFile(join(root, "init"), guestInit, { mode: 0o755 });
    await writeFile(join(root, "etc/udhcpc.script"), UDHCPC_SCRIPT, { mode: 0o755 });
    await copyModules(join(work, "kernel/lib/modules", kver), join(root, "lib/modules"));

    log("packing the initramfs (cpio, gzip)");
    await writeFile(join(work, "initramfs.img"), await initramfs(root));
    renameSync(join(work, "initramfs.img"), out.initrd);
    renameSync(join(work, "kernel/boot", `vmlinuz-${kver}`), out.kernel);
    await writeFile(join(dir, "kernel-version"), `${kver}\n`);
    await writeFile(out.stamp, `${stamp}\n`);
    return { kernel: out.kernel, initrd: out.initrd, kernelVersion: kver, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
