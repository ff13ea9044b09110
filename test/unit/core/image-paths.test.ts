// Host-path imports on the test driver: only inside [images] import_dirs, opened once, stored unreadable to others.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { qcow2References } from "../../../src/core/images/detect.ts";
import { checkHostPath, stagePath } from "../../../src/core/images/import-path.ts";
import { importImage } from "../../../src/core/images/index.ts";
import { poolDir } from "../../../src/core/paths.ts";
import { closePoolDir } from "../../../src/core/storage-pool.ts";
import { AppError } from "../../../src/errors.ts";
import { type Fixtures, imageCore, makeFixtures, type TestCore } from "./images-fixtures.ts";

let fx: Fixtures;
/** The import dir: fixtures copied in, plus the traps each test sets. */
let dir: string;
/** Files an import must never reach. */
let outside: string;
let core: TestCore;

beforeAll(async () => {
  fx = makeFixtures();
  dir = mkdtempSync("/tmp/berth-import-dir-");
  outside = mkdtempSync("/tmp/berth-import-outside-");
  writeFileSync(join(outside, "secret"), "root only\n", { mode: 0o600 });
  copyFileSync(fx.qcow2, join(dir, "disk.qcow2"));
  core = await imageCore("", { importDirs: [dir] });
});
afterAll(async () => {
  await core.close();
  fx.remove();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

const imp = (path: string, c: TestCore = core) => importImage(c, SYSTEM, { name: "x", kind: "disk", path });
const label = "image";

describe("what a path import may read", () => {
  test("outside the import dirs is 403, whether the file exists or not (no existence oracle)", async () => {
    const a = await refusal(imp("/etc/shadow"));
    const b = await refusal(imp("/etc/no-such-file-here"));
    expect([a.httpStatus, a.errorCode]).toEqual([403, "path_not_allowed"]);
    expect(a.message).toBe("image: /etc/shadow is not inside [images] import_dirs");
    expect(b.message).toBe("image: /etc/no-such-file-here is not inside [images] import_dirs");
  });

  test("directories are compared by component: a sibling that shares the prefix is outside", async () => {
    const sibling = `${dir}-evil`;
    mkdirSync(sibling);
    writeFileSync(join(sibling, "f"), "x");
    try {
      expect((await refusal(imp(join(sibling, "f")))).errorCode).toBe("path_not_allowed");
    } finally {
      rmSync(sibling, { recursive: true });
    }
  });

  test("a symlink to a file outside, or through a symlinked directory, is refused", async () => {
    symlinkSync(join(outside, "secret"), join(dir, "link.qcow2"));
    symlinkSync(outside, join(dir, "subdir"));
    try {
      expect((await refusal(imp(join(dir, "link.qcow2")))).message).toBe(
        `image: ${dir}/link.qcow2 is not inside [images] import_dirs`,
      );
      expect((await refusal(imp(join(dir, "subdir", "secret")))).errorCode).toBe("path_not_allowed");
    } finally {
      unlinkSync(join(dir, "link.qcow2"));
      unlinkSync(join(dir, "subdir"));
    }
  });

  test('".." is refused as written, even when it would land inside', async () => {
    const e = await refusal(imp(`${dir}/../${dir.split("/").pop()}/disk.qcow2`));
    expect([e.httpStatus, e.message]).toEqual([
      400,
      expect.stringContaining('must not contain ".." segments'),
    ]);
    expect((await refusal(imp(`${dir}/../../etc/shadow`))).httpStatus).toBe(400);
  });

  test("a FIFO is refused at once, never opened", async () => {
    const fifo = join(dir, "pipe.qcow2");
    Bun.spawnSync(["mkfifo", fifo]);
    try {
      const t0 = performance.now();
      const e = await refusal(imp(fifo));
      expect(e.message).toBe(`image: ${fifo} is not a regular file`);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      unlinkSync(fifo);
    }
  });

  test("berth's own files are refused even when an import dir contains them", async () => {
    const wide = await imageCore("", { importDirs: ["/tmp"] });
    try {
      const data = wide.config.data_dir;
      writeFileSync(join(data, "berth.db.copy"), "x");
      const db = await refusal(imp(join(data, "berth.db"), wide));
      expect(db.message).toBe(
        `image: ${data}/berth.db is inside berth's data directory; import from outside it`,
      );
      mkdirSync(poolDir(wide.config), { recursive: true });
      writeFileSync(join(poolDir(wide.config), "img.qcow2"), "x");
      const pool = await refusal(imp(join(poolDir(wide.config), "img.qcow2"), wide));
      expect(pool.message).toContain("is inside berth's storage pool");
    } finally {
      await wide.close();
    }
  });
});

describe("between the check and the copy (the file is opened once, its descriptor judged)", () => {
  async function swapped(name: string, swap: (path: string) => void): Promise<AppError> {
    const path = join(dir, name);
    copyFileSync(fx.qcow2, path);
    const host = await checkHostPath(core, path, label);
    swap(path);
    const file = join(outside, `${name}.staged`);
    const t0 = performance.now();
    const e = await refusal(
      stagePath(host, file, { signal: new AbortController().signal, label, report: () => undefined }),
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    rmSync(path, { recursive: true, force: true });
    return e;
  }

  test("a FIFO swapped in is refused without blocking", async () => {
    const e = await swapped("fifo-swap", (p) => {
      unlinkSync(p);
      Bun.spawnSync(["mkfifo", p]);
    });
    expect(e.message).toBe(`image: ${dir}/fifo-swap is not a regular file`);
  });

  test("a symlink swapped in is not followed", async () => {
    const e = await swapped("link-swap", (p) => {
      unlinkSync(p);
      symlinkSync(join(outside, "secret"), p);
    });
    expect(e.message).toBe(`image: ${dir}/link-swap changed since it was checked; try again`);
  });

  test("a directory on the way swapped for a symlink out is caught on the opened descriptor", async () => {
    mkdirSync(join(dir, "sub"));
    copyFileSync(fx.qcow2, join(dir, "sub", "secret"));
    const host = await checkHostPath(core, join(dir, "sub", "secret"), label);
    renameSync(join(dir, "sub"), join(dir, "sub.old"));
    symlinkSync(outside, join(dir, "sub"));
    const e = await refusal(
      stagePath(host, join(outside, "staged"), {
        signal: new AbortController().signal,
        label,
        report: () => undefined,
      }),
    );
    expect(e.message).toBe(`image: ${dir}/sub/secret is not inside [images] import_dirs`);
    unlinkSync(join(dir, "sub"));
    rmSync(join(dir, "sub.old"), { recursive: true });
  });
});

describe("what an import stores", () => {
  test("an allowed import is a file only its owner can read, in a pool directory others cannot list", async () => {
    const op = await importImage(core, SYSTEM, { name: "ok", kind: "disk", path: join(dir, "disk.qcow2") });
    const done = await core.ops.wait(op.id, 30);
    expect(done.status).toBe("succeeded");
    const path = (done.result as { path: string }).path;
    expect((statSync(path).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(poolDir(core.config)).mode & 0o777).toString(8)).toBe("711");
  });

  test("a pool an earlier version left open (0755, 0644 files) is closed when berth ensures it", async () => {
    const old = mkdtempSync("/tmp/berth-old-pool-");
    writeFileSync(join(old, "img-a.qcow2"), "x", { mode: 0o644 });
    writeFileSync(join(old, "vm-b.qcow2"), "x", { mode: 0o600 });
    chmodSync(old, 0o755);
    chmodSync(join(old, "img-a.qcow2"), 0o644);
    await closePoolDir(old);
    expect((statSync(old).mode & 0o777).toString(8)).toBe("711");
    expect((statSync(join(old, "img-a.qcow2")).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(join(old, "vm-b.qcow2")).mode & 0o777).toString(8)).toBe("600");
    rmSync(old, { recursive: true });
  });

  test("a qcow2 naming a backing file or an external data file is refused, whatever qemu-img would say", async () => {
    const ext = join(dir, "ext.qcow2");
    const qemuImg = (...a: string[]) => Bun.spawnSync(["qemu-img", ...a], { stderr: "pipe" });
    qemuImg(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      `data_file=${join(outside, "data.raw")},data_file_raw=on`,
      ext,
      "1M",
    );
    // The data file the header names does not even need to exist.
    rmSync(join(outside, "data.raw"));
    expect(await qcow2References(ext)).toBe("data-file");
    expect(await qcow2References(fx.backed)).toBe("backing");
    expect(await qcow2References(fx.qcow2)).toBe("none");
    expect(await qcow2References(fx.raw)).toBeNull();
    const op = await importImage(core, SYSTEM, { name: "ext", kind: "disk", path: ext });
    const done = await core.ops.wait(op.id, 30);
    expect(done.error).toEqual({
      code: "invalid_image",
      message: `image ${ext} uses an external data file; import a standalone image`,
      status: 400,
    });
  });
});
