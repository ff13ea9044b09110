// One libvirt "host" of the test fleet: its own virtlogd + libvirtd in the node's network namespace and a private mount namespace.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, until } from "./run.ts";
import { LIBVIRT_PKI_DIR } from "./tls.ts";

export interface LibvirtHost {
  node: string;
  ns: string;
  ip: string;
  /** Everything of this host: run/, etc/, lib/, log/, cache/, hosts. */
  dir: string;
  /** Reaches this host's libvirtd from the root namespace (never the machine's own daemon). */
  uri: string;
  libvirtdPid: number;
  virtlogdPid: number;
}

// Fixed text with its values as arguments ($1..$2): the private mounts must be made in the daemons' own mount namespace.
const START = `hostname "$1"
mount --bind "$2/run" /run
mount --bind "$2/etc" /etc/libvirt
mount --bind "$2/lib" /var/lib/libvirt
mount --bind "$2/log" /var/log/libvirt
mount --bind "$2/cache" /var/cache/libvirt
mount --bind "$2/hosts" /etc/hosts
virtlogd -d -p /run/virtlogd.pid
libvirtd -d -l -p /run/libvirtd.pid`;

export async function libvirtHostUp(
  node: string,
  ns: string,
  ip: string,
  dir: string,
  hosts: string,
  qemuConf: string[] = [],
  /** Only libvirtd's TLS listener (16514, certificates in LIBVIRT_PKI_DIR), its TCP listener closed. */
  libvirtdTls = false,
): Promise<LibvirtHost> {
  for (const d of [
    "run/lock",
    "etc/qemu/networks/autostart",
    "etc/storage/autostart",
    "lib/images",
    "lib/qemu",
    "log/qemu",
    "cache",
  ])
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  const last = Number(ip.split(".").at(-1));
  writeFileSync(
    join(dir, "etc/libvirtd.conf"),
    [
      ...(libvirtdTls
        ? [
            "listen_tls = 1",
            "listen_tcp = 0",
            `key_file = "${LIBVIRT_PKI_DIR}/serverkey.pem"`,
            `cert_file = "${LIBVIRT_PKI_DIR}/servercert.pem"`,
            `ca_file = "${LIBVIRT_PKI_DIR}/cacert.pem"`,
          ]
        : ["listen_tls = 0", "listen_tcp = 1", 'auth_tcp = "none"']),
      `listen_addr = "${ip}"`,
      // No DMI here: each host needs its own UUID, or libvirt refuses to migrate between them.
      `host_uuid = "f1ee7000-0000-4000-8000-${last.toString(16).padStart(12, "0")}"`,
      'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "etc/qemu.conf"),
    [
      "cgroup_controllers = [ ]",
      'security_driver = "none"',
      `migration_host = "${ip}"`,
      `migration_address = "${ip}"`,
      ...qemuConf,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "hosts"), hosts);
  run([
    "ip",
    "netns",
    "exec",
    ns,
    "unshare",
    "--mount",
    "--uts",
    "--propagation",
    "private",
    "/bin/sh",
    "-ec",
    START,
    "sh",
    `fleet-${node}`,
    dir,
  ]);
  const sock = join(dir, "run/libvirt/libvirt-sock");
  await until(() => existsSync(sock), 15_000, `libvirtd of ${node}`);
  const pid = (f: string) => Number(readFileSync(join(dir, "run", f), "utf8").trim());
  return {
    node,
    ns,
    ip,
    dir,
    uri: `qemu+unix:///system?socket=${sock}`,
    libvirtdPid: pid("libvirtd.pid"),
    virtlogdPid: pid("virtlogd.pid"),
  };
}

/** Starts a host whose daemons were killed again, on the same directory (its domains, networks and pools as they were). */
export function libvirtHostRestart(h: LibvirtHost): Promise<LibvirtHost> {
  // A killed daemon leaves its socket and pid files: the new ones must be waited for, not the old ones read.
  for (const f of ["run/libvirtd.pid", "run/virtlogd.pid", "run/libvirt/libvirt-sock"])
    rmSync(join(h.dir, f), { force: true });
  return libvirtHostUp(h.node, h.ns, h.ip, h.dir, readFileSync(join(h.dir, "hosts"), "utf8"));
}

/** Destroys and undefines every domain this host's libvirtd knows (only it: its own socket), so no QEMU outlives it. */
export function libvirtHostClear(h: LibvirtHost): void {
  const names = run(["virsh", "-q", "-c", h.uri, "list", "--all", "--name"], { allowFail: true });
  for (const name of names
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean)) {
    run(["virsh", "-q", "-c", h.uri, "destroy", name], { allowFail: true });
    run(["virsh", "-q", "-c", h.uri, "undefine", name, "--nvram"], { allowFail: true });
  }
}
