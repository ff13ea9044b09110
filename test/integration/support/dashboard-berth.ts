// The compiled berth (dist/berth) serving one pool on the test driver, for the dashboard test: spawned, waited for, stopped by pid.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../support/cli.ts";

const root = new URL("../../..", import.meta.url).pathname;
export const BINARY = join(root, "dist/berth");

/** Builds dist/berth once (bun run build, about a second here). */
export function buildBinary(): void {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
}

export class DashboardBerth {
  readonly dir = mkdtempSync(join(tmpdir(), "berth-dash-"));
  readonly port = freePort();
  readonly origin = `http://127.0.0.1:${this.port}`;
  #proc: ReturnType<typeof Bun.spawn> | null = null;
  #stderr = "";

  /** `pool` of `size` VMs on test:///default; `extraToml` adds sections ([auth]…). */
  constructor(
    readonly pool: string,
    readonly size: number,
    extraToml = "",
  ) {
    writeFileSync(
      join(this.dir, "berth.toml"),
      [
        `listen = "127.0.0.1:${this.port}"`,
        `data_dir = "${join(this.dir, "data")}"`,
        'log_level = "warn"',
        "[hypervisor]",
        'uri = "test:///default"',
        "[network]",
        "manage_bridges = false",
        "[storage]",
        `pool = "${pool}-store"`,
        "[[profiles]]",
        `name = "${pool}-tiny"`,
        "cpus = 1",
        "memory_mib = 64",
        "root_disk_gb = 1",
        "[[pools]]",
        `name = "${pool}"`,
        `profile = "${pool}-tiny"`,
        `size = ${size}`,
        extraToml,
      ].join("\n"),
    );
  }

  /** Starts the binary and waits until its pool is full. */
  async start(): Promise<void> {
    const proc = Bun.spawn([BINARY, "serve", "--config", join(this.dir, "berth.toml")], {
      cwd: this.dir,
      env: { ...process.env, BERTH_CONFIG: "", BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
      stdout: "ignore",
      stderr: "pipe",
    });
    this.#proc = proc;
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        this.#stderr = (this.#stderr + new TextDecoder().decode(chunk)).slice(-20_000);
      }
    })();
    for (let i = 0; i < 300; i++) {
      if (proc.exitCode !== null) break;
      if ((await this.ready()) >= this.size) return;
      await Bun.sleep(50);
    }
    throw new Error(`berth did not fill ${this.pool}: ${this.#stderr}`);
  }

  /** The pool's ready count (0 while berth does not answer yet). */
  async ready(): Promise<number> {
    const res = await fetch(`${this.origin}/v1/pools/${this.pool}`).catch(() => null);
    if (!res?.ok) return 0;
    return ((await res.json()) as { counts: { ready: number } }).counts.ready;
  }

  /** Stops berth by its pid and removes its directory. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (proc) {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
