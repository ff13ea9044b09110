// Image core on the test driver: lookups for the VM code, use checks, staging, recovery, delete undo.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { hasIsoMagic, qemuImgInfo } from "../../../src/core/images/detect.ts";
import {
  deleteImage,
  findImage,
  getImage,
  imageInUse,
  importImage,
  recoverImports,
  uploadImage,
} from "../../../src/core/images/index.ts";
import { reserveImage } from "../../../src/core/images/pipeline.ts";
import { stageStream } from "../../../src/core/images/staging.ts";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { AppError } from "../../../src/errors.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";
import { type Fixtures, imageCore, leftovers, MiB, makeFixtures, type TestCore } from "./images-fixtures.ts";

let core: TestCore;
let fx: Fixtures;

beforeAll(async () => {
  fx = makeFixtures();
  core = await imageCore("", { importDirs: [fx.dir] });
});
afterAll(async () => {
  await core.close();
  fx.remove();
});

async function imported(name: string, path: string, kind: "disk" | "iso" = "disk") {
  const op = await importImage(core, SYSTEM, { name, kind, path });
  const done = await core.ops.wait(op.id, 30);
  if (done.status !== "succeeded") throw new Error(`import ${name}: ${JSON.stringify(done.error)}`);
  return findImage(core, name);
}

function bytes(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

describe("findImage and imageInUse (used by the VM code)", () => {
  test("findImage returns the ready image with every field the VM code reads", async () => {
    const img = await imported("base", fx.qcow2);
    expect(Object.keys(img).sort()).toEqual(
      [
        "id",
        "name",
        "kind",
        "format",
        "volume",
        "path",
        "initrd_volume",
        "initrd_path",
        "virtual_size",
        "allocated_size",
        "source",
        "sha256",
        "status",
        "created_at",
      ].sort(),
    );
    expect(img).toMatchObject({
      name: "base",
      kind: "disk",
      format: "qcow2",
      status: "ready",
      virtual_size: 16 * MiB,
    });
    expect(img.path).toBe(join(poolDir(core.config), img.volume));
    expect(existsSync(img.path)).toBe(true);
  });

  test("findImage: NotFound for an unknown name, Conflict while importing", () => {
    expect(() => findImage(core, "nope")).toThrow("image nope does not exist");
    try {
      findImage(core, "nope");
    } catch (e) {
      expect((e as AppError).httpStatus).toBe(404);
    }
    const res = reserveImage(core, "half", "disk", "test");
    let err: unknown;
    try {
      findImage(core, "half");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).httpStatus).toBe(409);
    expect((err as AppError).message).toBe("image half is not ready (status importing)");
    expect(getImage(core, SYSTEM, "half")).toMatchObject({
      status: "importing",
      format: null,
      volume: null,
      path: null,
    });
    core.db.query("DELETE FROM images WHERE id = ?").run(res.id);
  });

  test("imageInUse: null when unused, a reason naming the VM or profile otherwise; exact names only", () => {
    expect(imageInUse(core, "base")).toBeNull();
    const at = new Date().toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, image, boot, created_at, updated_at)
         VALUES ('v1', 'web-1', 'running', 1, 256, 'base-2', '{"mode":"disk"}', ?, ?)`,
      )
      .run(at, at);
    core.db
      .query("INSERT INTO profiles (name, spec, origin) VALUES ('small', ?, 'config')")
      .run(
        JSON.stringify({ image: "bas", disks: [{ name: "base" }], boot: { mode: "disk", cmdline: "base" } }),
      );
    expect(imageInUse(core, "base")).toBeNull();
    core.db.query("UPDATE vms SET image = 'base' WHERE id = 'v1'").run();
    expect(imageInUse(core, "base")).toBe("vm web-1 uses image base");
    core.db.query("DELETE FROM vms").run();
    core.db
      .query("UPDATE profiles SET spec = ? WHERE name = 'small'")
      .run(JSON.stringify({ disks: [{ name: "x", image: "base" }] }));
    expect(imageInUse(core, "base")).toBe("profile small uses image base");
    core.db.query("DELETE FROM profiles").run();
  });
});

describe("staging", () => {
  test("zero blocks become holes; the content and checksum are exact", async () => {
    const dir = mkdtempSync("/tmp/berth-img-stage-");
    const data = new Uint8Array(4 * MiB);
    data[10] = 1;
    data[data.length - 1] = 2;
    const file = join(dir, "x.part");
    const staged = await stageStream(bytes(data.subarray(0, MiB), data.subarray(MiB)), file, {
      signal: new AbortController().signal,
      label: "t",
    });
    expect(staged.bytes).toBe(4 * MiB);
    expect(staged.sha256).toBe(new Bun.CryptoHasher("sha256").update(data).digest("hex"));
    expect(new Uint8Array(await Bun.file(file).arrayBuffer())).toEqual(data);
    expect(statSync(file).blocks * 512).toBeLessThanOrEqual(256 * 1024);
    rmSync(dir, { recursive: true });
  });

  test("a source that stalls fails with transfer_stalled and removes the file", async () => {
    const dir = mkdtempSync("/tmp/berth-img-stage-");
    const file = join(dir, "x.part");
    const stalled = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined) });
    const p = stageStream(stalled, file, {
      signal: new AbortController().signal,
      label: "slowpoke",
      idleMs: 50,
    });
    await expect(p).rejects.toMatchObject({ errorCode: "transfer_stalled", httpStatus: 504 });
    expect(existsSync(file)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  test("aborting mid-stream rejects with the signal's reason and removes the file", async () => {
    const dir = mkdtempSync("/tmp/berth-img-stage-");
    const file = join(dir, "x.part");
    const ac = new AbortController();
    let n = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++n === 3) ac.abort(new AppError(409, "cancelled", "stop"));
        c.enqueue(new Uint8Array(1024).fill(1));
      },
    });
    await expect(stageStream(endless, file, { signal: ac.signal, label: "t" })).rejects.toMatchObject({
      errorCode: "cancelled",
    });
    expect(existsSync(file)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  test("a length short of the announced total is transfer_incomplete", async () => {
    const dir = mkdtempSync("/tmp/berth-img-stage-");
    const file = join(dir, "x.part");
    const p = stageStream(bytes(new Uint8Array(10).fill(1)), file, {
      signal: new AbortController().signal,
      label: "short",
      total: 20,
    });
    await expect(p).rejects.toMatchObject({ errorCode: "transfer_incomplete" });
    expect(existsSync(file)).toBe(false);
    rmSync(dir, { recursive: true });
  });
});

describe("detection helpers", () => {
  test("qemu-img info reads format and size; a missing file is an error", async () => {
    expect(await qemuImgInfo(fx.qcow2)).toMatchObject({ format: "qcow2", "virtual-size": 16 * MiB });
    await expect(qemuImgInfo(join(fx.dir, "missing"))).rejects.toThrow(/qemu-img info failed/);
  });

  test("the ISO signature sits at byte 32769", async () => {
    expect(await hasIsoMagic(fx.iso)).toBe(true);
    expect(await hasIsoMagic(fx.qcow2)).toBe(false);
    expect(await hasIsoMagic(fx.empty)).toBe(false);
  });
});

describe("recoverImports", () => {
  test("undoes an import a previous run left half-done, and only that", async () => {
    const keep = await imported("keeper", fx.iso, "iso");
    const stale = reserveImage(core, "stale", "disk", "test");
    const pool = await ensureStoragePool(core);
    const volume = `img-${stale.id}.qcow2`;
    await core.hv.call("volume.create", {
      pool,
      xml: buildVolumeXml({ name: volume, capacityBytes: MiB, format: "qcow2" }),
    });
    writeFileSync(join(poolDir(core.config), volume), "partial");
    mkdirSync(stagingDir(core.config), { recursive: true });
    const staged = join(stagingDir(core.config), `img-${stale.id}-initrd.part`);
    const foreign = join(stagingDir(core.config), "not-ours.txt");
    writeFileSync(staged, "partial");
    writeFileSync(foreign, "x");

    expect(await recoverImports(core)).toBe(1);
    const left = await leftovers(core);
    expect(left.rows).not.toContain("stale");
    expect(left.rows).toContain("keeper");
    expect(left.volumes).not.toContain(volume);
    expect(left.volumes).toContain(keep.volume);
    expect(left.files).not.toContain(volume);
    expect(left.staged).toEqual(["not-ours.txt"]);
    expect(await recoverImports(core)).toBe(0);
    rmSync(foreign);
  });
});

describe("moving into the pool across filesystems", () => {
  test("a pool on another filesystem than staging gets a copy (EXDEV), and staging is emptied", async () => {
    const shm = mkdtempSync("/dev/shm/berth-img-pool-");
    const other = await imageCore(`path = "${shm}"`, { importDirs: [fx.dir] });
    try {
      const img = await uploadImage(
        other,
        SYSTEM,
        { name: "cross", kind: "disk" },
        Bun.file(fx.qcow2).stream(),
        new AbortController().signal,
      );
      expect(img.path).toBe(join(shm, `img-${img.id}.qcow2`));
      expect((await qemuImgInfo(img.path as string)).format).toBe("qcow2");
      expect((await leftovers(other)).staged).toEqual([]);
      await deleteImage(other, SYSTEM, "cross");
      expect(existsSync(img.path as string)).toBe(false);
    } finally {
      await other.close();
      rmSync(shm, { recursive: true, force: true });
    }
  });
});

describe("deleteImage", () => {
  test("when a volume cannot be removed, the row comes back and the error surfaces", async () => {
    const img = await imported("stubborn", fx.qcow2);
    // A non-empty directory where the file was: removing it fails after libvirt's delete.
    rmSync(img.path);
    mkdirSync(img.path);
    writeFileSync(join(img.path, "x"), "x");
    // Not `expect(p).rejects`: Bun waits on it without delivering Worker replies, and the hypervisor call hangs.
    const err = await deleteImage(core, SYSTEM, "stubborn").then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(err)).toContain("is a directory");
    expect(findImage(core, "stubborn")).toMatchObject({ id: img.id, status: "ready", volume: img.volume });
    rmSync(img.path, { recursive: true });
    expect((await deleteImage(core, SYSTEM, "stubborn")).name).toBe("stubborn");
    expect(() => findImage(core, "stubborn")).toThrow("does not exist");
  });
});
