// A real berth process (`bun src/main.ts serve`) for fault tests: start, kill -9, restart, and a bounded HTTP client.
import { appendFileSync, chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { waitFor } from "../../integration/support/daemons.ts";
import { SYSTEM_URI } from "../../integration/support/env.ts";
import type { Json } from "../../support/http.ts";

const root = new URL("../../..", import.meta.url).pathname;

export interface Answer {
  status: number;
  body: Json;
  /** Milliseconds from sending to the full answer. */
  ms: number;
}

/** A free TCP port on loopback, found by binding port 0. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface BerthOptions {
  /** Names the storage pool (`berth-fault-<tag>`) and the temporary directory. */
  tag: string;
  /** More TOML appended after the generated sections (keep section names distinct from those below). */
  extraToml?: string;
  /** Where the database lives, absolute or relative to the process's directory; default `data`. */
  dataDir?: string;
  /** The storage pool's directory, absolute or relative to the process's directory; default `<data_dir>/pool`. */
  poolPath?: string;
  /** The libvirt URI; default qemu:///system. */
  uri?: string;
}

export class BerthProcess {
  readonly dir: string;
  readonly port = freePort();
  readonly base: string;
  readonly configFile: string;
  /** berth's stderr over every start, for a look after a failure. */
  readonly logFile: string;
  readonly storagePool: string;
  readonly dataDir: string;
  readonly poolPath: string;
  #proc: ReturnType<typeof Bun.spawn> | null = null;
  #stderr = "";
  #partial = "";
  /** How often each reconcile/recovery message appeared on stderr, over every start. */
  readonly messages = new Map<string, number>();
  starts = 0;

  constructor(readonly opts: BerthOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `berth-fault-${opts.tag}-`));
    chmodSync(this.dir, 0o711); // QEMU must reach the pool below it
    this.base = `http://127.0.0.1:${this.port}`;
    this.configFile = join(this.dir, "berth.toml");
    this.logFile = join(this.dir, "berth.log");
    this.storagePool = `berth-fault-${opts.tag}`;
    const under = (p: string) => (isAbsolute(p) ? p : join(this.dir, p));
    this.dataDir = under(opts.dataDir ?? "data");
    this.poolPath = opts.poolPath ? under(opts.poolPath) : join(this.dataDir, "pool");
    writeFileSync(
      this.configFile,
      [
        `listen = "127.0.0.1:${this.port}"`,
        `data_dir = "${this.dataDir}"`,
        'log_level = "warn"',
        "[hypervisor]",
        `uri = "${opts.uri ?? SYSTEM_URI}"`,
        'domain_type = "qemu"',
        "workers = 2",
        "[storage]",
        `pool = "${this.storagePool}"`,
        `path = "${this.poolPath}"`,
        opts.extraToml ?? "",
      ].join("\n"),
    );
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  /** The running process's pid (for prlimit and /proc), or null. */
  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** Started and not exited on its own. */
  get alive(): boolean {
    return this.#proc !== null && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  /** The last lines berth wrote to stderr (for failure messages). */
  stderrTail(lines = 30): string {
    return this.#stderr.split("\n").slice(-lines).join("\n");
  }

  /** Spawns berth and waits until /healthz answers 200. */
  async start(timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    const proc = Bun.spawn(["bun", join(root, "src/main.ts"), "serve", "--config", this.configFile], {
      env: { ...process.env, BERTH_CONFIG: "", BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
      stdout: "ignore",
      stderr: "pipe",
    });
    this.#proc = proc;
    this.starts++;
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        const text = dec.decode(chunk);
        appendFileSync(this.logFile, text);
        this.#stderr = (this.#stderr + text).slice(-20_000);
        const lines = (this.#partial + text).split("\n");
        this.#partial = lines.pop() ?? "";
        for (const line of lines) {
          const m = / (?:warn|error) (.+?) \{/.exec(line);
          if (m?.[1]) this.messages.set(m[1], (this.messages.get(m[1]) ?? 0) + 1);
        }
      }
    })();
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`berth exited ${proc.exitCode}: ${this.stderrTail()}`);
          return (await this.get("/healthz", 2000).catch(() => null))?.status === 200;
        },
        timeoutMs,
        "berth to answer /healthz with 200",
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.stderrTail()}`);
    }
    return performance.now() - t0;
  }

  async kill9(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (!p) return;
    p.kill("SIGKILL");
    await p.exited;
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (!p) return;
    p.kill("SIGTERM");
    const done = await Promise.race([p.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
    if (!done) {
      p.kill("SIGKILL");
      await p.exited;
    }
  }

  /** One request with a deadline; a hang past `timeoutMs` rejects (TimeoutError). */
  async api(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Answer> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: Json = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { unparsed: text }; // kept for the assertion message: a non-JSON answer is itself a finding
    }
    return { status: res.status, body: parsed, ms: performance.now() - t0 };
  }

  get(path: string, timeoutMs?: number): Promise<Answer> {
    return this.api("GET", path, undefined, timeoutMs);
  }

  /** Reconcile passes this process has ended (any outcome), read from /metrics. */
  async reconcilePasses(): Promise<number> {
    const r = await this.get("/metrics");
    const text: string = typeof r.body?.unparsed === "string" ? r.body.unparsed : "";
    let n = 0;
    for (const m of text.matchAll(/^berth_reconcile_passes_total\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
    return n;
  }

  /** Expects `want`; throws with the answer otherwise. */
  async ok(method: string, path: string, body: unknown, want: number): Promise<Json> {
    const r = await this.api(method, path, body);
    if (r.status !== want)
      throw new Error(`${method} ${path}: expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** True for an answer in berth's error shape: {"error": {"code", "message"}}. */
export function isErrorShape(body: Json): boolean {
  return (
    typeof body?.error?.code === "string" &&
    typeof body?.error?.message === "string" &&
    body.error.message.length > 0
  );
}
