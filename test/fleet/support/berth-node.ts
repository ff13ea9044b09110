// A berth of the test fleet, run inside its host's namespaces (network, mount, UTS) so qemu:///system is that host's libvirtd.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LibvirtHost } from "./libvirt-host.ts";
import { alive, until } from "./run.ts";

const root = new URL("../../..", import.meta.url).pathname;
export const BERTH_PORT = 8470;
export const PVC_PORT = 7370;
/** berth's pool directory as every host sees it; from the root namespace it is `<host dir>/lib/berth-pool`. */
export const POOL_PATH = "/var/lib/libvirt/berth-pool";
/** berth's data_dir as every host sees it; from the root namespace `<host dir>/lib/berth-data`. */
export const DATA_PATH = "/var/lib/libvirt/berth-data";
const GUEST_DIR = new URL("../../fixtures/guest/cache", import.meta.url).pathname;

export interface FleetSettings {
  etcd: string[];
  secret: string;
  leaseTtlS: number;
  prefix: string;
  /** [[auth.users]] entries (same on every host). */
  usersToml: string;
  /** More [storage] keys (the rbd backend's). */
  storageToml?: string[];
  /** [images] import_dirs; default the tiny guest's fixture cache. */
  importDirs?: string[];
  /** PVC's listener (host:port); off unless given. */
  pvcListen?: string;
  /** More [auth] keys (quotas). */
  authToml?: string[];
  /** More [fleet] keys (migration_tls). */
  fleetToml?: string[];
}

/** Where a berth sits on its host: a second berth on the same host (a benchmark's single-host floor) takes other ones. */
export interface BerthPlace {
  /** Its directory's name under the host's (config and log). */
  dir: string;
  port: number;
  dataPath: string;
  poolPath: string;
  poolName: string;
}
const FLEET_PLACE: BerthPlace = {
  dir: "berth",
  port: BERTH_PORT,
  dataPath: DATA_PATH,
  poolPath: POOL_PATH,
  poolName: "berth-fleet",
};

export class BerthNode {
  readonly api: string;
  readonly configFile: string;
  readonly logFile: string;
  #proc: ReturnType<typeof Bun.spawn> | null = null;

  constructor(
    readonly host: LibvirtHost,
    readonly fleet: FleetSettings,
    place: BerthPlace = FLEET_PLACE,
  ) {
    this.api = `http://${host.ip}:${place.port}`;
    const dir = join(host.dir, place.dir);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.configFile = join(dir, "berth.toml");
    this.logFile = join(dir, "berth.log");
    writeFileSync(
      this.configFile,
      [
        `listen = "${host.ip}:${place.port}"`,
        // Same paths on every host, each host's own (its /var/lib/libvirt): a migrated guest's console log and disks keep theirs.
        `data_dir = "${place.dataPath}"`,
        'log_level = "info"',
        "[hypervisor]",
        'uri = "qemu:///system"',
        'domain_type = "qemu"',
        "workers = 2",
        "[storage]",
        `pool = "${place.poolName}"`,
        `path = "${place.poolPath}"`,
        ...(this.fleet.storageToml ?? []),
        "[images]",
        // The tiny guest's kernel and initrd are imported from the fixture cache by path.
        `import_dirs = ${JSON.stringify(this.fleet.importDirs ?? [GUEST_DIR])}`,
        "[vm]",
        "shutdown_timeout_s = 2",
        "[demo]",
        "enabled = false",
        "[fleet]",
        `etcd = [${this.fleet.etcd.map((e) => `"${e}"`).join(", ")}]`,
        `name = "${host.node}"`,
        `api = "${this.api}"`,
        `migration_address = "${host.ip}"`,
        `secret = "${this.fleet.secret}"`,
        `lease_ttl_s = ${this.fleet.leaseTtlS}`,
        `prefix = "${this.fleet.prefix}"`,
        ...(this.fleet.fleetToml ?? []),
        "[auth]",
        "enabled = true",
        "users_can_create = true",
        ...(this.fleet.authToml ?? []),
        this.fleet.usersToml,
        "",
      ].join("\n"),
    );
  }

  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** Starts berth in the host's namespaces (nsenter execs it: the pid is berth's) and waits for /healthz. */
  async start(timeoutMs = 60_000): Promise<void> {
    const proc = Bun.spawn(
      [
        "nsenter",
        "-t",
        String(this.host.libvirtdPid),
        "-m",
        "-n",
        "-u",
        "--",
        process.execPath,
        join(root, "src/main.ts"),
        "serve",
        "--config",
        this.configFile,
      ],
      {
        // PVC listens on the host's own address (inside its namespace): its moves are fleet migrations.
        env: {
          ...process.env,
          BERTH_CONFIG: "",
          BERTH_PVC_LISTEN: this.fleet.pvcListen ?? `${this.host.ip}:${PVC_PORT}`,
          BERTH_SYSADM_ENABLED: "false",
        },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    this.#proc = proc;
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>)
        appendFileSync(this.logFile, dec.decode(chunk));
    })();
    await until(
      async () => {
        if (proc.exitCode !== null)
          throw new Error(`berth ${this.host.node} exited ${proc.exitCode}; log ${this.logFile}`);
        const r = await fetch(`${this.api}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return r?.status === 200;
      },
      timeoutMs,
      `berth ${this.host.node} to answer /healthz`,
    );
  }

  /** kill -9: no goodbye to the fleet, its lease has to run out. */
  kill9(): void {
    if (this.#proc && alive(this.#proc.pid)) process.kill(this.#proc.pid, "SIGKILL");
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    if (!p) return;
    if (alive(p.pid)) process.kill(p.pid, "SIGTERM");
    const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
    if (!exited && alive(p.pid)) process.kill(p.pid, "SIGKILL");
    await p.exited;
    this.#proc = null;
  }
}
