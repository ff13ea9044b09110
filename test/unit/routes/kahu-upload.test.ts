// Kahu volumes made from an uploaded file on the test driver: sizes, refusals, limits, owners, and nothing left behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { kahuScope } from "../../../src/core/fronts/kahu.ts";
import { instanceVm } from "../../../src/core/fronts/kahu-instances.ts";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { createSize } from "../../../src/core/sizes.ts";
import { createApp } from "../../../src/routes/app.ts";
import type { Json } from "../../support/http.ts";
import { cleanup, poolCore } from "../core/pools-support.ts";

const P = "ukahuup";
const PROFILE = `${P}-tiny`;
const MiB = 1024 ** 2;
const basic = (user: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${user}-pw`).toString("base64")}`,
});
const ann = basic("ann");

let core: Awaited<ReturnType<typeof poolCore>>;
let app: ReturnType<typeof createApp>;
let dataDir: string;
let src: string;

function qemuImg(...args: string[]): void {
  const r = Bun.spawnSync(["qemu-img", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`qemu-img ${args.join(" ")}: ${r.stderr.toString()}`);
}

const file = (name: string) => join(src, name);

beforeAll(async () => {
  src = mkdtempSync("/tmp/berth-kahu-up-src-");
  // 1500 KiB: a virtual size that is no whole number of MiB, so the answer shows it rounded up.
  qemuImg("create", "-q", "-f", "qcow2", file("small.qcow2"), "1500K");
  qemuImg("create", "-q", "-f", "qcow2", "-b", file("small.qcow2"), "-F", "qcow2", file("backed.qcow2"));
  writeFileSync(file("disk.raw"), new Uint8Array(MiB).fill(1));
  // The ISO 9660 primary volume descriptor: type 1, then "CD001", at byte 32768.
  const iso = new Uint8Array(64 * 1024);
  iso.set([1, ...new TextEncoder().encode("CD001"), 1], 32768);
  writeFileSync(file("cd.iso"), iso);
  writeFileSync(file("big.qcow2"), new Uint8Array(5 * MiB));
  dataDir = mkdtempSync("/tmp/berth-kahu-up-data-");
  const hash = async (u: string) => await Bun.password.hash(`${u}-pw`, { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[limits]\nmax_upload_bytes = ${4 * MiB}\n[auth]\nenabled = true\n[[auth.users]]\nname = "ann"\npassword_hash = "${await hash("ann")}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${await hash("bob")}"\n`,
    dataDir,
  );
  createSize(core, SYSTEM, { name: PROFILE, vcpus: 1, memory_mib: 64 });
  app = createApp(core);
});

afterAll(async () => {
  await cleanup(core);
  await core.close();
  rmSync(src, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(method: string, path: string, init: RequestInit = {}) {
  const res = await app.handle(new Request(`http://localhost${path}`, { ...init, method }));
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : null };
}

/** Kahu's client sends every field as a file part; `upload` is the real file. */
function form(fields: Record<string, string>, upload?: string): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, new Blob([`${v}\n`]), k);
  if (upload) f.append("file", Bun.file(upload), "image");
  return f;
}

async function create(headers = ann): Promise<string> {
  const r = await send("POST", "/v0/compute/instance/", {
    headers,
    body: form({ profile: PROFILE, size: PROFILE }),
  });
  expect({ status: r.status, body: r.body }).toMatchObject({ status: 201 });
  return (r.headers.get("location") as string).split("/").at(-2) as string;
}

const upload = (id: string, fields: Record<string, string>, path?: string, headers = ann) =>
  send("POST", `/v0/compute/instance/${id}/storage/`, { headers, body: form(fields, path) });

const vmOf = async (id: string) => await instanceVm(core, SYSTEM, kahuScope("/v0", undefined), id);
const disksOfInstance = async (id: string): Promise<Json[]> => (await vmOf(id)).disks as Json[];
const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
const staged = () => {
  const d = stagingDir(core.config);
  return existsSync(d) ? readdirSync(d) : [];
};

test("a qcow2 upload becomes a volume of its virtual size in MiB (rounded up), on virtio by default", async () => {
  const id = await create();
  const r = await upload(id, { name: "up" }, file("small.qcow2"));
  expect({ status: r.status, body: r.body, location: r.headers.get("location") }).toEqual({
    status: 201,
    body: { name: "up", size: 2 },
    location: `/v0/compute/instance/${id}/storage/up/`,
  });
  expect((await send("GET", `/v0/compute/instance/${id}/storage/up`, { headers: ann })).body).toMatchObject({
    name: "up",
    "media-type": "disk",
    "guest-iface": "virtio",
    size: 2,
  });
  const disk = (await disksOfInstance(id)).find((d) => d.name === "up") as Json;
  expect(disk).toMatchObject({ format: "qcow2", device: "disk", bus: "virtio", size: 1500 * 1024 });
  expect(await volumes()).toContain(disk.volume);
  // The pool holds the uploaded image itself, and the temporary upload is gone.
  const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "--output=json", disk.path]).stdout.toString());
  expect(info).toMatchObject({ format: "qcow2", "virtual-size": 1500 * 1024 });
  expect(staged()).toEqual([]);
});

test("an ISO with media-type cdrom becomes a read-only cdrom; Kahu's default virtio maps to scsi", async () => {
  const id = await create();
  const r = await upload(id, { name: "cd", "media-type": "cdrom" }, file("cd.iso"));
  expect({ status: r.status, body: r.body }).toEqual({ status: 201, body: { name: "cd", size: 1 } });
  const disk = (await disksOfInstance(id)).find((d) => d.name === "cd") as Json;
  expect(disk).toMatchObject({ device: "cdrom", format: "raw", bus: "scsi", size: 64 * 1024 });
  const xml = await core.hv.call("domain.xml", { name: (await vmOf(id)).name });
  expect(xml).toMatch(new RegExp(`<disk type='file' device='cdrom'>[^]*?${disk.path}[^]*?<readonly/>`));
});

test("refusals leave nothing behind: size with file, a backing file, a raw or non-ISO file, no file, past max_upload_bytes", async () => {
  const id = await create();
  const before = await volumes();
  const disksBefore = await disksOfInstance(id);
  for (const [fields, path, status] of [
    [{ name: "both", size: "10" }, file("small.qcow2"), 400],
    [{ name: "backed" }, file("backed.qcow2"), 400],
    [{ name: "raw" }, file("disk.raw"), 400],
    [{ name: "notiso", "media-type": "cdrom" }, file("small.qcow2"), 400],
    [{ name: "rawcd", "media-type": "cdrom" }, file("disk.raw"), 400],
    [{ name: "none" }, undefined, 400],
    [{ name: "big" }, file("big.qcow2"), 413],
  ] as const) {
    const r = await upload(id, fields, path);
    expect({ fields, status: r.status, keys: Object.keys(r.body) }).toEqual({
      fields,
      status,
      keys: ["message"],
    });
  }
  expect((await upload(id, { name: "backed" }, file("backed.qcow2"))).body.message).toContain("backing file");
  expect(await volumes()).toEqual(before);
  expect(await disksOfInstance(id)).toEqual(disksBefore);
  expect(staged()).toEqual([]);
  expect(readdirSync(poolDir(core.config)).filter((f) => before.every((v) => v !== f))).toEqual([]);
});

test("another user's instance is 404 and takes nothing in", async () => {
  const id = await create();
  const before = await volumes();
  const r = await upload(id, { name: "theirs" }, file("small.qcow2"), basic("bob"));
  expect(r.status).toBe(404);
  expect(await volumes()).toEqual(before);
  expect(staged()).toEqual([]);
});

test("on a running instance a failed hot-plug (the test driver cannot attach) undoes every step", async () => {
  const id = await create();
  expect((await send("POST", `/v0/compute/instance/${id}/start`, { headers: ann })).status).toBe(200);
  const before = await volumes();
  const files = readdirSync(poolDir(core.config)).sort();
  const r = await upload(id, { name: "hot" }, file("small.qcow2"));
  expect(r.status).toBe(502);
  expect(await volumes()).toEqual(before);
  expect(readdirSync(poolDir(core.config)).sort()).toEqual(files);
  expect((await disksOfInstance(id)).map((d) => d.name)).not.toContain("hot");
  expect(staged()).toEqual([]);
  expect((await send("POST", `/v0/compute/instance/${id}/stop`, { headers: ann })).status).toBe(200);
});

test("the uploaded volumes go when the instance is deleted", async () => {
  const id = await create();
  expect((await upload(id, { name: "up" }, file("small.qcow2"))).status).toBe(201);
  expect((await upload(id, { name: "cd", "media-type": "cdrom" }, file("cd.iso"))).status).toBe(201);
  const mine = (await disksOfInstance(id)).filter((d) => d.name === "up" || d.name === "cd");
  expect(mine.length).toBe(2);
  expect((await send("DELETE", `/v0/compute/instance/${id}/`, { headers: ann })).status).toBe(200);
  const left = await volumes();
  for (const d of mine) expect(left).not.toContain(d.volume);
});
