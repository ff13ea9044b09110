// A single-node Ceph (mon, mgr, one bluestore OSD on a sparse file) in one network namespace, all files under one directory.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, stopPids, until } from "./run.ts";

export interface CephCluster {
  dir: string;
  conf: string;
  ns: string;
  ip: string;
  /** The RBD pool made for berth. */
  pool: string;
  /** The cephx user berth uses (client.<user>), and a file holding only its base64 key. */
  user: string;
  keyFile: string;
  /** The key itself: tests look for it where it must never appear. */
  key: string;
  pids: number[];
  /** Runs `ceph`/`rbd` with the admin key in the cluster's namespace (argv only). */
  admin(tool: "ceph" | "rbd", args: string[]): string;
  down(): Promise<void>;
}

function conf(dir: string, fsid: string, ip: string): string {
  return `[global]
fsid = ${fsid}
mon_host = v2:${ip}:3300/0,v1:${ip}:6789/0
public_network = ${ip}/24
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
run_dir = ${dir}/run
admin_socket = ${dir}/run/$cluster-$name.asok
log_file = ${dir}/log/$cluster-$name.log
pid_file = ${dir}/run/$cluster-$name.pid
mon_data = ${dir}/mon/$cluster-$id
mgr_data = ${dir}/mgr/$cluster-$id
osd_data = ${dir}/osd/$cluster-$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 5
auth_allow_insecure_global_id_reclaim = false
ms_bind_ipv6 = false
[osd]
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 10G
bluestore_cache_autotune = false
bluestore_cache_size = 128M
osd_memory_target = 939524096
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
[client]
keyring = ${dir}/$cluster.$name.keyring
`;
}

/** Bootstraps the cluster the way vstart.sh does (no cephadm, LVM or loop device) and waits (bounded) for HEALTH_OK. */
export async function cephUp(ns: string, ip: string, dir: string): Promise<CephCluster> {
  for (const d of ["run", "log", "mon", "mgr/ceph-x", "osd"]) mkdirSync(join(dir, d), { recursive: true });
  const confFile = join(dir, "ceph.conf");
  writeFileSync(confFile, conf(dir, crypto.randomUUID(), ip));
  const pids: number[] = [];
  const inNs = (argv: string[]) => ["ip", "netns", "exec", ns, ...argv];
  const admin = (tool: "ceph" | "rbd", args: string[]) => run(inNs([tool, "-c", confFile, ...args]));
  // Foreground daemons (-f): `ip netns exec` execs them, so the spawned pid is the daemon's.
  const daemon = (argv: string[], name: string) => {
    const p = Bun.spawn(inNs([...argv, "-f", "-c", confFile]), {
      stdout: Bun.file(join(dir, "log", `${name}.out`)),
      stderr: Bun.file(join(dir, "log", `${name}.err`)),
    });
    pids.push(p.pid);
  };
  const cluster: CephCluster = {
    dir,
    conf: confFile,
    ns,
    ip,
    pool: "berth-rbd",
    user: "berth",
    keyFile: join(dir, "client.berth.key"),
    key: "",
    pids,
    admin,
    down: async () => {
      await stopPids(pids, 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const monKeyring = join(dir, "mon.keyring");
    const adminKeyring = join(dir, "ceph.client.admin.keyring");
    run([
      "ceph-authtool",
      "--create-keyring",
      monKeyring,
      "--gen-key",
      "-n",
      "mon.",
      "--cap",
      "mon",
      "allow *",
    ]);
    run([
      "ceph-authtool",
      "--create-keyring",
      adminKeyring,
      "--gen-key",
      "-n",
      "client.admin",
      "--cap",
      "mon",
      "allow *",
      "--cap",
      "osd",
      "allow *",
      "--cap",
      "mgr",
      "allow *",
    ]);
    run(["ceph-authtool", monKeyring, "--import-keyring", adminKeyring]);
    const fsid = /fsid = (\S+)/.exec(readFileSync(confFile, "utf8"))?.[1] as string;
    const monmap = join(dir, "monmap");
    run(["monmaptool", "--create", "--addv", "a", `[v2:${ip}:3300,v1:${ip}:6789]`, "--fsid", fsid, monmap]);
    run(["ceph-mon", "-c", confFile, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", monKeyring]);
    daemon(["ceph-mon", "-i", "a"], "mon");
    await until(
      () => {
        try {
          admin("ceph", ["--connect-timeout", "2", "mon", "stat"]);
          return true;
        } catch {
          return false;
        }
      },
      20_000,
      "ceph-mon to answer",
    );
    admin("ceph", [
      "auth",
      "get-or-create",
      "mgr.x",
      "mon",
      "allow profile mgr",
      "osd",
      "allow *",
      "-o",
      join(dir, "mgr/ceph-x/keyring"),
    ]);
    daemon(["ceph-mgr", "-i", "x"], "mgr");
    const osdUuid = crypto.randomUUID();
    const secret = run(["ceph-authtool", "--gen-print-key"]).trim();
    const secretFile = join(dir, "osd-secret.json");
    writeFileSync(secretFile, JSON.stringify({ cephx_secret: secret }));
    const id = admin("ceph", ["osd", "new", osdUuid, "-i", secretFile]).trim();
    rmSync(secretFile);
    const osdDir = join(dir, "osd", `ceph-${id}`);
    mkdirSync(osdDir, { recursive: true });
    run([
      "ceph-authtool",
      "--create-keyring",
      join(osdDir, "keyring"),
      "--name",
      `osd.${id}`,
      "--add-key",
      secret,
    ]);
    run(inNs(["ceph-osd", "-c", confFile, "-i", id, "--mkfs", "--osd-uuid", osdUuid]));
    daemon(["ceph-osd", "-i", id], "osd");
    admin("ceph", ["osd", "pool", "create", cluster.pool, "8"]);
    admin("rbd", ["pool", "init", cluster.pool]);
    admin("ceph", [
      "auth",
      "get-or-create",
      `client.${cluster.user}`,
      "mon",
      "profile rbd",
      "osd",
      `profile rbd pool=${cluster.pool}`,
    ]);
    cluster.key = admin("ceph", ["auth", "get-key", `client.${cluster.user}`]).trim();
    writeFileSync(cluster.keyFile, `${cluster.key}\n`, { mode: 0o600 });
    await until(() => admin("ceph", ["health"]).startsWith("HEALTH_OK"), 60_000, "ceph to report HEALTH_OK");
    return cluster;
  } catch (e) {
    await cluster.down();
    throw e;
  }
}
