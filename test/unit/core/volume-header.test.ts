// Reading a volume's own header on real files made by qemu-img: the backing and data files it names, never followed.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVolumeHeader } from "../../../src/core/volume-header.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-vh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qemuImg(...args: string[]): void {
  const r = Bun.spawnSync(["qemu-img", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`qemu-img ${args.join(" ")}: ${r.stderr.toString()}`);
}

test("a plain qcow2, an overlay, a data_file image and a raw file", () => {
  const plain = join(dir, "plain.qcow2");
  qemuImg("create", "-q", "-f", "qcow2", plain, "16M");
  expect(readVolumeHeader(plain)).toEqual({ format: "qcow2", backing: null, dataFile: null });

  const overlay = join(dir, "overlay.qcow2");
  qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "/etc/shadow", "-F", "raw", overlay, "16M");
  expect(readVolumeHeader(overlay)).toEqual({ format: "qcow2", backing: "/etc/shadow", dataFile: null });

  const data = join(dir, "data.qcow2");
  const dataFile = join(dir, "data.raw");
  qemuImg("create", "-q", "-f", "qcow2", "-o", `data_file=${dataFile},data_file_raw=on`, data, "16M");
  expect(readVolumeHeader(data)).toEqual({ format: "qcow2", backing: null, dataFile });

  const v2 = join(dir, "v2.qcow2");
  qemuImg("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-u", "-b", plain, "-F", "qcow2", v2, "16M");
  expect(readVolumeHeader(v2)).toEqual({ format: "qcow2", backing: plain, dataFile: null });

  const raw = join(dir, "disk.raw");
  writeFileSync(raw, Buffer.alloc(4096, 7));
  expect(readVolumeHeader(raw)).toEqual({ format: "raw", backing: null, dataFile: null });
});

test("a symbolic link is never followed; a missing file is told apart", () => {
  const link = join(dir, "link.qcow2");
  symlinkSync("/etc/shadow", link);
  expect(readVolumeHeader(link)).toBeNull();
  expect(readVolumeHeader(join(dir, "none.qcow2"))).toBe("missing");
  expect(readVolumeHeader(dir)).toBeNull();
});

test("a v3 header cut short of its feature bits is taken as naming a data file", () => {
  const plain = join(dir, "short-src.qcow2");
  qemuImg("create", "-q", "-f", "qcow2", plain, "16M");
  const short = join(dir, "short.qcow2");
  writeFileSync(short, readFileSync(plain).subarray(0, 80));
  expect(readVolumeHeader(short)).toEqual({ format: "qcow2", backing: null, dataFile: "" });
});
