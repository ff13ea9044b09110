// Images on real libvirtd: imports from a host path and a URL land as volumes libvirt knows, and leave cleanly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { stagingDir } from "../../src/core/paths.ts";
import { createApp } from "../../src/routes/app.ts";
import { fromXml } from "../../src/xml/codec.ts";
import { testConfig, testCore } from "../support/core.ts";
import type { Json } from "../support/http.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";

const POOL = `berth-it-img-${process.pid}`;
const MiB = 1024 * 1024;

describe.skipIf(!integrationReady())("images on libvirtd", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  let app: ReturnType<typeof createApp>;
  let dir = "";
  let qcow2 = "";
  let server: ReturnType<typeof Bun.serve> | undefined;
  const url = (p: string) => `http://127.0.0.1:${server?.port}${p}`;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    return { status: res.status, body: await res.json() };
  }

  const volumes = async () => (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name).sort();

  beforeAll(async () => {
    dir = mkdtempSync("/tmp/berth-it-img-");
    chmodSync(dir, 0o755);
    qcow2 = join(dir, "src.qcow2");
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "16M"], { stderr: "pipe" });
    if (made.exitCode !== 0) throw new Error(`qemu-img create: ${made.stderr.toString()}`);
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) =>
        new URL(req.url).pathname === "/disk.qcow2"
          ? new Response(Bun.file(qcow2))
          : new Response("no", { status: 404, statusText: "Not Found" }),
    });
    core = await testCore(
      testConfig(
        `[storage]\npool = "${POOL}"\npath = "${join(dir, "pool")}"\n` +
          // The fixtures sit in dir (the pool below it stays berth's own); the URL server is on loopback.
          `[images]\nimport_dirs = ["${dir}"]\nallow_private_networks = true\n`,
        {
          BERTH_HYPERVISOR_URI: SYSTEM_URI,
          BERTH_DATA_DIR: join(dir, "data"),
        },
      ),
    );
    app = createApp(core);
  }, 60_000);

  afterAll(async () => {
    server?.stop(true);
    const quiet = <T>(p: Promise<T>) => p.catch(() => undefined);
    if (core) {
      for (const v of (await quiet(core.hv.call("volume.list", { pool: POOL }))) ?? []) {
        await quiet(core.hv.call("volume.delete", { pool: POOL, volume: v.name }));
      }
      await quiet(core.hv.call("pool.destroy", { pool: POOL }));
      await quiet(core.hv.call("pool.undefine", { pool: POOL }));
      await core.close();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test("a qcow2 from a host path becomes a pool volume libvirt reads as qcow2", async () => {
    const r = await call("POST", "/v1/images?wait=true", { name: "it-path", kind: "disk", path: qcow2 });
    expect(r.status).toBe(200);
    const img = r.body.result;
    expect(img).toMatchObject({ format: "qcow2", virtual_size: 16 * MiB, status: "ready" });
    expect(img.path).toBe(join(dir, "pool", img.volume));
    // After the refresh libvirt reports the real file: its capacity is the image's virtual size.
    const info = await core.hv.call("volume.info", { pool: POOL, volume: img.volume });
    expect(info).toMatchObject({ path: img.path, capacity: 16 * MiB });
    const xml = fromXml(await core.hv.call("volume.xml", { pool: POOL, volume: img.volume })) as Json;
    expect(xml.volume.target.format["@type"]).toBe("qcow2");
    // Readable by its owner only (libvirt hands it to QEMU's user when a VM starts), in a pool others cannot list.
    expect(statSync(img.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "pool")).mode & 0o777).toBe(0o711);
    expect(existsSync(qcow2)).toBe(true);
    expect(readdirSync(stagingDir(core.config))).toEqual([]);
  });

  test("a qcow2 from a URL, with its sha256 checked", async () => {
    const sha256 = new Bun.CryptoHasher("sha256").update(await Bun.file(qcow2).arrayBuffer()).digest("hex");
    const r = await call("POST", "/v1/images?wait=true", {
      name: "it-url",
      kind: "disk",
      url: url("/disk.qcow2"),
      sha256,
    });
    expect(r.status).toBe(200);
    expect(r.body.result.sha256).toBe(sha256);
    const info = await core.hv.call("volume.info", { pool: POOL, volume: r.body.result.volume });
    expect(info.capacity).toBe(16 * MiB);
  });

  test("an ISO (stored through an empty raw placeholder) keeps its bytes and size", async () => {
    const iso = join(dir, "cd.iso");
    const bytes = new Uint8Array(256 * 1024).fill(9);
    bytes.set([1, ...new TextEncoder().encode("CD001"), 1], 32768);
    await Bun.write(iso, bytes);
    const r = await call("POST", "/v1/images?wait=true", { name: "it-iso", kind: "iso", path: iso });
    expect(r.status).toBe(200);
    const img = r.body.result;
    expect(img).toMatchObject({ format: "iso", virtual_size: bytes.length });
    const info = await core.hv.call("volume.info", { pool: POOL, volume: img.volume });
    expect(info.capacity).toBe(bytes.length);
    expect(new Uint8Array(await Bun.file(img.path).arrayBuffer())).toEqual(bytes);
    expect((await call("DELETE", "/v1/images/it-iso")).status).toBe(200);
  });

  test("a failed download leaves no volume and no staged file", async () => {
    const before = await volumes();
    const r = await call("POST", "/v1/images?wait=true", {
      name: "it-404",
      kind: "disk",
      url: url("/missing"),
    });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe("download_failed");
    expect(await volumes()).toEqual(before);
    expect(readdirSync(stagingDir(core.config))).toEqual([]);
  });

  test("deleting the images removes their volumes and files from the pool", async () => {
    const paths = [
      (await call("GET", "/v1/images/it-path")).body.path,
      (await call("GET", "/v1/images/it-url")).body.path,
    ];
    expect((await call("DELETE", "/v1/images/it-path")).status).toBe(200);
    expect((await call("DELETE", "/v1/images/it-url")).status).toBe(200);
    expect(await volumes()).toEqual([]);
    for (const p of paths) expect(existsSync(p)).toBe(false);
    expect(readdirSync(join(dir, "pool"))).toEqual([]);
  });
});
