// Image test fixtures: small real image files, a local HTTP server serving them, and a leftover check.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Core } from "../../../src/core/context.ts";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { testConfig, testCore } from "../../support/core.ts";

export const MiB = 1024 * 1024;

export interface Fixtures {
  dir: string;
  remove: () => void;
  qcow2: string;
  raw: string;
  iso: string;
  kernel: string;
  initrd: string;
  vmdk: string;
  backed: string;
  empty: string;
}

function qemuImg(...args: string[]): void {
  const r = Bun.spawnSync(["qemu-img", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`qemu-img ${args.join(" ")}: ${r.stderr.toString()}`);
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(i + 65536, n)));
  return b;
}

/** Real files of each kind in a fresh directory outside any berth directory. */
export function makeFixtures(): Fixtures {
  const dir = mkdtempSync("/tmp/berth-img-src-");
  const f = (name: string) => join(dir, name);
  qemuImg("create", "-q", "-f", "qcow2", f("disk.qcow2"), "16M");
  qemuImg("create", "-q", "-f", "vmdk", f("disk.vmdk"), "16M");
  qemuImg("create", "-q", "-f", "qcow2", "-b", f("disk.qcow2"), "-F", "qcow2", f("backed.qcow2"));
  // 8 MiB, data only in the first and last KiB: a raw disk that should stay sparse.
  const raw = new Uint8Array(8 * MiB);
  raw.set(randomBytes(1024), 0);
  raw.set(randomBytes(1024), raw.length - 1024);
  writeFileSync(f("disk.raw"), raw);
  // The ISO 9660 primary volume descriptor: type 1, then "CD001", at byte 32768.
  const iso = new Uint8Array(64 * 1024);
  iso.set([1, ...new TextEncoder().encode("CD001"), 1], 32768);
  writeFileSync(f("cd.iso"), iso);
  writeFileSync(f("vmlinuz"), randomBytes(MiB));
  writeFileSync(f("initrd.img"), randomBytes(512 * 1024));
  writeFileSync(f("empty"), "");
  return {
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
    qcow2: f("disk.qcow2"),
    raw: f("disk.raw"),
    iso: f("cd.iso"),
    kernel: f("vmlinuz"),
    initrd: f("initrd.img"),
    vmdk: f("disk.vmdk"),
    backed: f("backed.qcow2"),
    empty: f("empty"),
  };
}

export async function sha256Of(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await Bun.file(path).arrayBuffer()).digest("hex");
}

export type TestCore = Awaited<ReturnType<typeof testCore>>;

/** `[images]` for a test core: the fixtures' loopback servers need private networks allowed. */
export interface ImagesToml {
  importDirs?: string[];
  allowPrivate?: boolean;
}

/**
 * A Core on the test driver whose data_dir (database, pool, staging) is a fresh temporary directory.
 * The test driver shares its state among connections in one process, so the pool gets its own name.
 */
export async function imageCore(storage = "", images: ImagesToml = {}): Promise<TestCore> {
  const dataDir = mkdtempSync("/tmp/berth-img-data-");
  const pool = `berth-img-${dataDir.slice(-6).replace(/[^A-Za-z0-9]/g, "x")}`;
  const imagesToml = `[images]\nimport_dirs = ${JSON.stringify(images.importDirs ?? [])}\nallow_private_networks = ${images.allowPrivate ?? true}\n`;
  const core = await testCore(
    testConfig(`[storage]\npool = "${pool}"\n${storage}\n${imagesToml}`, { BERTH_DATA_DIR: dataDir }),
  );
  return {
    ...core,
    async close() {
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Serves fixture files, a 404, a body without Content-Length, and a slow download on its own socket. */
export function serveFixtures(fx: Fixtures) {
  const files: Record<string, string> = {
    "/disk.qcow2": fx.qcow2,
    "/disk.raw": fx.raw,
    "/cd.iso": fx.iso,
    "/vmlinuz": fx.kernel,
    "/initrd.img": fx.initrd,
  };
  // Bun.serve drops Content-Length on streamed bodies; a raw socket sends it, as real servers do.
  let slowClosed = false;
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const slow = Bun.listen<{ timer?: Timer }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock) {
        if (sock.data?.timer) return;
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${1024 * MiB}\r\nConnection: close\r\n\r\n`);
        sock.data = { timer: setInterval(() => sock.write(chunk), 20) };
      },
      close(sock) {
        clearInterval(sock.data?.timer);
        slowClosed = true;
      },
    },
  });
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      const file = files[path];
      if (file) return new Response(Bun.file(file));
      if (path === "/chunked.qcow2") {
        const body = Bun.file(fx.qcow2).stream();
        return new Response(body, { headers: { "content-type": "application/octet-stream" } });
      }
      return new Response("no such file", { status: 404, statusText: "Not Found" });
    },
  });
  return {
    url: (p: string) => `http://127.0.0.1:${server.port}${p}`,
    /** Sends 1 GiB at about 3 MiB/s, announced with Content-Length. */
    slowUrl: `http://127.0.0.1:${slow.port}/slow.qcow2`,
    slowClosed: () => slowClosed,
    stop: () => {
      server.stop(true);
      slow.stop(true);
    },
  };
}

/** Everything an import could leave behind: rows, staged files, pool files and pool volumes. */
export async function leftovers(core: Core): Promise<{
  rows: string[];
  staged: string[];
  files: string[];
  volumes: string[];
}> {
  const ls = (d: string) => (existsSync(d) ? readdirSync(d).sort() : []);
  const rows = (core.db.query("SELECT name FROM images ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );
  const volumes = (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name);
  return {
    rows,
    staged: ls(stagingDir(core.config)),
    files: ls(poolDir(core.config)),
    volumes: volumes.sort(),
  };
}
