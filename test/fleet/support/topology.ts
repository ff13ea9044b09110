// The whole test fleet: network, libvirt hosts a and b, a 3-member etcd on a, b and c, one berth per host; torn down by pid and exact name.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BerthNode, type FleetSettings } from "./berth-node.ts";
import { type CephCluster, cephUp } from "./ceph.ts";
import { type EtcdCluster, etcdUp } from "./etcd.ts";
import { type LibvirtHost, libvirtHostClear, libvirtHostRestart, libvirtHostUp } from "./libvirt-host.ts";
import { type FleetNet, netDown, netNames, netUp } from "./net.ts";
import { alive, stopPids, until } from "./run.ts";
import {
  issueHostCerts,
  issueLibvirtPki,
  LIBVIRT_PKI_DIR,
  libvirtPkiDirOf,
  MIGRATE_TLS_DIR,
  makeTestCa,
  migrateTlsDirOf,
} from "./tls.ts";

export const USERS = {
  admin: { password: "fleet-admin-pw", admin: true },
  alice: { password: "fleet-alice-pw", admin: false },
  bob: { password: "fleet-bob-pw", admin: false },
} as const;
export type UserName = keyof typeof USERS;

export interface Topology {
  id: string;
  dir: string;
  net: FleetNet;
  hosts: Record<"a" | "b", LibvirtHost>;
  etcd: EtcdCluster;
  berths: Record<"a" | "b", BerthNode>;
  /** With `ceph`: a single-node Ceph on c, and every berth on [storage] backend = "rbd". */
  ceph?: CephCluster;
  settings: FleetSettings;
  prefix: string;
  leaseTtlS: number;
  /** The registered hosts' records, by name, as etcd holds them now. */
  members(): Promise<Record<string, Record<string, unknown>>>;
  /** Waits (bounded) until exactly `names` are registered. */
  awaitMembers(names: string[], timeoutMs?: number): Promise<number>;
  /** kill -9 of a host's berth, libvirtd, virtlogd and every QEMU it ran (pids started here or read from its run dir). */
  killHost(n: "a" | "b"): Promise<void>;
  /** Starts a killed host again: its libvirtd and virtlogd, then a berth (hosts[n] and berths[n] are the new ones). */
  reviveHost(n: "a" | "b"): Promise<void>;
  down(): Promise<void>;
}

export async function usersToml(): Promise<string> {
  const lines: string[] = [];
  for (const [name, u] of Object.entries(USERS)) {
    const hash = await Bun.password.hash(u.password, {
      algorithm: "argon2id",
      memoryCost: 4096,
      timeCost: 1,
    });
    lines.push("[[auth.users]]", `name = "${name}"`, `password_hash = "${hash}"`, `admin = ${u.admin}`);
  }
  return lines.join("\n");
}

/** What a suite adds to every berth's config. */
export interface FleetOptions {
  /** More [auth] keys, e.g. quotas. */
  authToml?: string[];
  /**
   * Live migrations over TLS: a test CA, each host's certificates in its migrate_tls_x509_cert_dir, libvirt told to
   * refuse any migration without TLS (migrate_tls_force), and berth's [fleet] migration_tls on.
   */
  migrationTls?: boolean;
  /**
   * libvirtd's own peer-to-peer connection over TLS: each host's libvirtd listens only on TLS (its TCP listener
   * closed) with certificates from a test CA, and berth's [fleet] libvirt_transport = "tls" with that pkipath.
   */
  libvirtTls?: boolean;
  /** A single-node Ceph on c, every berth on `[storage] backend = "rbd"`. */
  ceph?: boolean;
  /** More [fleet] keys on every host, e.g. migration tuning. */
  fleetToml?: string[];
}

export async function fleetUp(leaseTtlS = 3, opts: FleetOptions = {}): Promise<Topology> {
  const id = crypto
    .getRandomValues(new Uint8Array(2))
    .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  const dir = mkdtempSync(join("/var/tmp", `berth-fleet-${id}-`));
  chmodSync(dir, 0o755);
  const net = netNames(id, ["a", "b", "c"]);
  const prefix = `/berth-test-${id}`;
  const pids: number[] = [];
  const made: Partial<Topology> = {};
  const down = async () => {
    for (const b of Object.values(made.berths ?? {})) await b.stop();
    for (const h of Object.values(made.hosts ?? {})) libvirtHostClear(h);
    made.etcd?.client.close();
    await stopPids(pids);
    await made.ceph?.down();
    netDown(net);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    netUp(net);
    const hostsFile = `127.0.0.1 localhost\n${Object.entries(net.ip)
      .map(([n, ip]) => `${ip} fleet-${n}`)
      .join("\n")}\n`;
    const hosts: Partial<Record<"a" | "b", LibvirtHost>> = {};
    made.hosts = hosts as Record<"a" | "b", LibvirtHost>;
    const ca = opts.migrationTls || opts.libvirtTls ? makeTestCa(join(dir, "ca")) : null;
    for (const n of ["a", "b"] as const) {
      const hostDir = join(dir, `host-${n}`);
      if (ca && opts.migrationTls) issueHostCerts(ca, migrateTlsDirOf(hostDir), n, net.ip[n] as string);
      if (ca && opts.libvirtTls) issueLibvirtPki(ca, libvirtPkiDirOf(hostDir), n, net.ip[n] as string);
      const tls = opts.migrationTls
        ? [`migrate_tls_x509_cert_dir = "${MIGRATE_TLS_DIR}"`, "migrate_tls_force = 1"]
        : [];
      const h = await libvirtHostUp(
        n,
        net.ns[n] as string,
        net.ip[n] as string,
        hostDir,
        hostsFile,
        tls,
        opts.libvirtTls === true,
      );
      hosts[n] = h;
      pids.push(h.libvirtdPid, h.virtlogdPid);
    }
    const etcd = await etcdUp(
      (["a", "b", "c"] as const).map((n) => ({ name: n, ns: net.ns[n] as string, ip: net.ip[n] as string })),
      join(dir, "etcd"),
    );
    made.etcd = etcd;
    pids.push(...etcd.pids);
    const ceph = opts.ceph
      ? await cephUp(net.ns.c as string, net.ip.c as string, join(dir, "ceph"))
      : undefined;
    made.ceph = ceph;
    // A recovery's fence is added under `profile rbd`; lifting it (osd blocklist rm) needs the command allowed too.
    ceph?.admin("ceph", [
      "auth",
      "caps",
      `client.${ceph.user}`,
      "mon",
      'profile rbd, allow command "osd blocklist"',
      "osd",
      `profile rbd pool=${ceph.pool}`,
    ]);
    const settings: FleetSettings = {
      etcd: etcd.endpoints,
      secret: `fleet-test-secret-${id}-0123456789abcdef`,
      leaseTtlS,
      prefix,
      usersToml: await usersToml(),
      authToml: opts.authToml,
      fleetToml: [
        ...(opts.migrationTls ? ["migration_tls = true"] : []),
        ...(opts.libvirtTls ? ['libvirt_transport = "tls"', `libvirt_pki_path = "${LIBVIRT_PKI_DIR}"`] : []),
        ...(opts.fleetToml ?? []),
      ],
      ...(ceph
        ? {
            storageToml: [
              'backend = "rbd"',
              `rbd_pool = "${ceph.pool}"`,
              `ceph_monitors = ["${ceph.ip}:6789"]`,
              `ceph_user = "${ceph.user}"`,
              `ceph_key_file = "${ceph.keyFile}"`,
            ],
          }
        : {}),
    };
    const berths = { a: new BerthNode(made.hosts.a, settings), b: new BerthNode(made.hosts.b, settings) };
    made.berths = berths;
    await Promise.all([berths.a.start(), berths.b.start()]);
    const members = async () => {
      const all = await etcd.client.getAll().prefix(`${prefix}/hosts/`).strings();
      return Object.fromEntries(
        Object.entries(all).map(([k, v]) => [k.split("/").at(-1) as string, JSON.parse(v)]),
      );
    };
    const awaitMembers = (names: string[], timeoutMs = 15_000) =>
      until(
        async () =>
          Object.keys(await members())
            .sort()
            .join() === [...names].sort().join(),
        timeoutMs,
        `fleet members ${names.join(", ")}`,
      );
    await awaitMembers(["a", "b"]);
    const killHost = async (n: "a" | "b") => {
      const h = (made.hosts as Record<"a" | "b", LibvirtHost>)[n];
      const qemuDir = join(h.dir, "run/libvirt/qemu");
      const qemus = existsSync(qemuDir)
        ? readdirSync(qemuDir)
            .filter((f) => f.endsWith(".pid"))
            .map((f) => Number(readFileSync(join(qemuDir, f), "utf8").trim()))
        : [];
      berths[n].kill9();
      const gone = [h.libvirtdPid, h.virtlogdPid, ...qemus];
      for (const p of gone) if (alive(p)) process.kill(p, "SIGKILL");
      await until(() => gone.every((p) => !alive(p)), 10_000, `host ${n}'s processes to die`);
      if (berths[n].pid !== null) await berths[n].stop();
    };
    const reviveHost = async (n: "a" | "b") => {
      const h = await libvirtHostRestart((made.hosts as Record<"a" | "b", LibvirtHost>)[n]);
      (made.hosts as Record<"a" | "b", LibvirtHost>)[n] = h;
      pids.push(h.libvirtdPid, h.virtlogdPid);
      berths[n] = new BerthNode(h, settings);
      await berths[n].start();
    };
    return {
      id,
      dir,
      net,
      hosts: made.hosts,
      etcd,
      berths,
      ...(ceph ? { ceph } : {}),
      settings,
      prefix,
      leaseTtlS,
      members,
      awaitMembers,
      killHost,
      reviveHost,
      down,
    };
  } catch (e) {
    await down();
    throw e;
  }
}
