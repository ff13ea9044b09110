// /v1/images through app.handle on the test driver: import (path, URL), upload, list, show, rename, delete.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { createApp } from "../../../src/routes/app.ts";
import { type Json, json } from "../../support/http.ts";
import {
  type Fixtures,
  imageCore,
  leftovers,
  MiB,
  makeFixtures,
  serveFixtures,
  sha256Of,
  type TestCore,
} from "../core/images-fixtures.ts";

let core: TestCore;
let app: ReturnType<typeof createApp>;
let fx: Fixtures;
let srv: ReturnType<typeof serveFixtures>;

beforeAll(async () => {
  fx = makeFixtures();
  srv = serveFixtures(fx);
  core = await imageCore("", { importDirs: [fx.dir] });
  app = createApp(core);
});
afterAll(async () => {
  srv.stop();
  await core.close();
  fx.remove();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json; res: Response }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await app.handle(new Request(`http://localhost${path}`, init));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

const importWait = (body: unknown) => call("POST", "/v1/images?wait=true", body);

async function upload(name: string, query: string, body: Blob | ReadableStream<Uint8Array> | string) {
  const res = await app.handle(
    new Request(`http://localhost/v1/images/${name}/upload${query}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body,
    }),
  );
  return { status: res.status, body: (await json(res)) as Json, res };
}

async function expectClean(name: string) {
  const left = await leftovers(core);
  expect(left.rows).not.toContain(name);
  expect(left.staged).toEqual([]);
  const ours = new Set(
    (
      core.db.query("SELECT volume, initrd_volume FROM images").all() as {
        volume: string;
        initrd_volume: string | null;
      }[]
    )
      .flatMap((r) => [r.volume, r.initrd_volume])
      .filter((v): v is string => !!v),
  );
  expect(left.files.filter((f) => !ours.has(f))).toEqual([]);
  expect(left.volumes.filter((v) => !ours.has(v))).toEqual([]);
}

function expectError(r: { status: number; body: Json }, status: number, code: string, message?: RegExp) {
  expect(r.status).toBe(status);
  expect(r.body.error.code).toBe(code);
  if (message) expect(r.body.error.message).toMatch(message);
}

describe("POST /v1/images from a host path", () => {
  test("202 with an operation and Location; the image is importing, then ready", async () => {
    const r = await call("POST", "/v1/images", { name: "from-path", kind: "disk", path: fx.qcow2 });
    expect(r.status).toBe(202);
    expect(r.res.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect(r.body).toMatchObject({ kind: "image.import", target: "image/from-path", status: "running" });
    const during = await call("GET", "/v1/images/from-path");
    expect(during.body.status).toBe("importing");
    expect(during.body.format).toBeNull();
    const op = await core.ops.wait(r.body.id, 30);
    expect(op.status).toBe("succeeded");
    const img = (await call("GET", "/v1/images/from-path")).body;
    expect(img).toMatchObject({
      name: "from-path",
      kind: "disk",
      format: "qcow2",
      virtual_size: 16 * MiB,
      source: fx.qcow2,
      sha256: await sha256Of(fx.qcow2),
      status: "ready",
      initrd_volume: null,
      initrd_path: null,
    });
    expect(img.volume).toBe(`img-${img.id}.qcow2`);
    expect(img.path).toBe(join(poolDir(core.config), img.volume));
    expect(img.allocated_size).toBeGreaterThan(0);
    expect(op.result).toEqual(img);
    // Copied, never moved.
    expect(existsSync(fx.qcow2)).toBe(true);
    const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "--output=json", img.path]).stdout.toString());
    expect(info).toMatchObject({ format: "qcow2", "virtual-size": 16 * MiB });
    const vols = await core.hv.call("volume.list", { pool: core.config.storage.pool });
    expect(vols.map((v) => v.name)).toContain(img.volume);
    expect((await leftovers(core)).staged).toEqual([]);
  });

  test("?wait=true answers 200 with the finished operation, its result the image", async () => {
    const r = await importWait({ name: "raw-disk", kind: "disk", path: fx.raw });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("succeeded");
    expect(r.body.progress).toBe(1);
    expect(r.body.result).toMatchObject({ name: "raw-disk", format: "raw", virtual_size: 8 * MiB });
    expect(r.body.result.volume).toBe(`img-${r.body.result.id}.raw`);
    // Zero blocks are written as holes: the copy stays sparse.
    expect(statSync(r.body.result.path).blocks * 512).toBeLessThan(MiB);
    expect(await sha256Of(r.body.result.path)).toBe(await sha256Of(fx.raw));
  });

  test("an ISO is checked for its ISO 9660 signature", async () => {
    const ok = await importWait({ name: "cd", kind: "iso", path: fx.iso });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ kind: "iso", format: "iso", virtual_size: 64 * 1024 });
    expect(ok.body.result.volume).toBe(`img-${ok.body.result.id}.iso`);
    const bad = await importWait({ name: "not-cd", kind: "iso", path: fx.raw });
    expectError(bad, 400, "invalid_image", /not an ISO 9660 image/);
    await expectClean("not-cd");
  });

  test("a kernel pair stores two volumes", async () => {
    const r = await importWait({
      name: "kern",
      kind: "kernel",
      kernel: { path: fx.kernel },
      initrd: { path: fx.initrd },
    });
    expect(r.status).toBe(200);
    const img = r.body.result;
    expect(img).toMatchObject({
      kind: "kernel",
      format: "raw",
      virtual_size: MiB,
      sha256: await sha256Of(fx.kernel),
    });
    expect(img.volume).toBe(`img-${img.id}-kernel`);
    expect(img.initrd_volume).toBe(`img-${img.id}-initrd`);
    expect(await sha256Of(img.initrd_path)).toBe(await sha256Of(fx.initrd));
    expect(img.source).toBe(`kernel=${fx.kernel} initrd=${fx.initrd}`);
  });

  test("a kernel without an initrd is allowed", async () => {
    const r = await importWait({ name: "kern-only", kind: "kernel", kernel: { path: fx.kernel } });
    expect(r.status).toBe(200);
    expect(r.body.result.initrd_volume).toBeNull();
  });

  test("disk formats other than qcow2/raw, backing files and empty files are refused; nothing is left", async () => {
    expectError(
      await importWait({ name: "vmdk", kind: "disk", path: fx.vmdk }),
      400,
      "invalid_image",
      /vmdk/,
    );
    expectError(
      await importWait({ name: "backed", kind: "disk", path: fx.backed }),
      400,
      "invalid_image",
      /backing file/,
    );
    expectError(
      await importWait({ name: "empty", kind: "disk", path: fx.empty }),
      400,
      "invalid_image",
      /empty/,
    );
    for (const n of ["vmdk", "backed", "empty"]) await expectClean(n);
  });

  test("a matching sha256 passes (any case); a wrong one fails with checksum_mismatch", async () => {
    const sum = await sha256Of(fx.iso);
    const ok = await importWait({ name: "cd-sum", kind: "iso", path: fx.iso, sha256: sum.toUpperCase() });
    expect(ok.status).toBe(200);
    expect(ok.body.result.sha256).toBe(sum);
    const bad = await importWait({ name: "cd-badsum", kind: "iso", path: fx.iso, sha256: "0".repeat(64) });
    expectError(bad, 400, "checksum_mismatch", new RegExp(`sha256 is ${sum}, expected 0{64}`));
    await expectClean("cd-badsum");
  });

  test("bad paths are 400 (403 outside [images] import_dirs) and nothing is created", async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [{ name: "p1", kind: "disk", path: "relative/disk.qcow2" }, 400, "invalid_request", /must be absolute/],
      [
        { name: "p2", kind: "disk", path: `${fx.dir}/../${fx.dir.split("/").pop()}/disk.qcow2` },
        400,
        "invalid_request",
        /"\.\." segments/,
      ],
      [{ name: "p3", kind: "disk", path: `${fx.dir}/nope.qcow2` }, 400, "invalid_request", /does not exist/],
      [{ name: "p4", kind: "disk", path: fx.dir }, 400, "invalid_request", /not a regular file/],
      [
        { name: "p5", kind: "disk", path: "/dev/null" },
        403,
        "path_not_allowed",
        /not inside \[images\] import_dirs/,
      ],
    ];
    for (const [body, status, code, msg] of cases)
      expectError(await call("POST", "/v1/images", body), status, code, msg);
    expect((await leftovers(core)).rows).not.toContain("p1");
  });

  test("files in berth's pool or staging directory are refused (they are outside the import dirs)", async () => {
    const img = (await call("GET", "/v1/images/from-path")).body;
    const r = await call("POST", "/v1/images", { name: "pool-copy", kind: "disk", path: img.path });
    expectError(r, 403, "path_not_allowed", /not inside \[images\] import_dirs/);
    mkdirSync(stagingDir(core.config), { recursive: true });
    const staged = join(stagingDir(core.config), "x.qcow2");
    writeFileSync(staged, "x");
    const s = await call("POST", "/v1/images", { name: "staged-copy", kind: "disk", path: staged });
    expectError(s, 403, "path_not_allowed", /not inside \[images\] import_dirs/);
    (await import("node:fs")).rmSync(staged);
  });
});

describe("POST /v1/images from a URL", () => {
  test("streams the download, reports progress and checks the sha256", async () => {
    const seen: number[] = [];
    const off = core.events.subscribe((e) => {
      if (e.type === "operation.progress" && e.data.target === "image/from-url")
        seen.push(e.data.progress as number);
    });
    const r = await importWait({
      name: "from-url",
      kind: "disk",
      url: srv.url("/disk.qcow2"),
      sha256: await sha256Of(fx.qcow2),
    });
    off();
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({
      format: "qcow2",
      source: srv.url("/disk.qcow2"),
      virtual_size: 16 * MiB,
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(1);
  });

  test("a body without Content-Length still imports", async () => {
    const r = await importWait({ name: "chunked", kind: "disk", url: srv.url("/chunked.qcow2") });
    expect(r.status).toBe(200);
    expect(r.body.result.sha256).toBe(await sha256Of(fx.qcow2));
  });

  test("an ISO and a kernel pair from URLs", async () => {
    expect((await importWait({ name: "cd-url", kind: "iso", url: srv.url("/cd.iso") })).status).toBe(200);
    const k = await importWait({
      name: "kern-url",
      kind: "kernel",
      kernel: { url: srv.url("/vmlinuz"), sha256: await sha256Of(fx.kernel) },
      initrd: { url: srv.url("/initrd.img") },
    });
    expect(k.status).toBe(200);
    expect(k.body.result.initrd_volume).toBe(`img-${k.body.result.id}-initrd`);
  });

  test("a 404 fails the operation with download_failed; nothing is left and the name is free again", async () => {
    const r = await call("POST", "/v1/images", {
      name: "missing",
      kind: "disk",
      url: srv.url("/missing.qcow2"),
    });
    expect(r.status).toBe(202);
    const op = await core.ops.wait(r.body.id, 30);
    expect(op.status).toBe("failed");
    expect(op.error).toEqual({
      code: "download_failed",
      message: `image ${srv.url("/missing.qcow2")}: answered 404 Not Found`,
      status: 502,
    });
    expectError(await call("GET", "/v1/images/missing"), 404, "not_found");
    await expectClean("missing");
    const again = await importWait({ name: "missing", kind: "disk", url: srv.url("/disk.qcow2") });
    expect(again.status).toBe(200);
  });

  test("a wrong sha256 fails with a 400 checksum_mismatch and leaves nothing behind", async () => {
    const r = await importWait({
      name: "bad-sum",
      kind: "disk",
      url: srv.url("/disk.qcow2"),
      sha256: "a".repeat(64),
    });
    expectError(r, 400, "checksum_mismatch", /expected a{64}/);
    expect(r.body.error.details.operation).toBeString();
    await expectClean("bad-sum");
  });

  test("when the initrd fails after the kernel is stored, the kernel's volume goes too", async () => {
    const volumesBefore = (await leftovers(core)).volumes;
    const r = await importWait({
      name: "half-pair",
      kind: "kernel",
      kernel: { url: srv.url("/vmlinuz") },
      initrd: { url: srv.url("/missing-initrd") },
    });
    expectError(r, 502, "download_failed", /missing-initrd: answered 404/);
    await expectClean("half-pair");
    expect((await leftovers(core)).volumes).toEqual(volumesBefore);
  });

  test("an unreachable server fails with fetch_failed, saying nothing about why", async () => {
    const r = await importWait({ name: "unreachable", kind: "disk", url: "http://127.0.0.1:1/x.qcow2" });
    expectError(r, 502, "fetch_failed", /^image http:\/\/127\.0\.0\.1:1\/x\.qcow2: fetch failed$/);
    await expectClean("unreachable");
  });

  test("cancelling the operation stops the download and leaves nothing behind", async () => {
    const r = await call("POST", "/v1/images", { name: "slow", kind: "disk", url: srv.slowUrl });
    expect(r.status).toBe(202);
    for (let i = 0; i < 200 && core.ops.get(r.body.id).progress === 0; i++) await Bun.sleep(25);
    const running = core.ops.get(r.body.id);
    expect(running.progress).toBeGreaterThan(0);
    expect(running.message).toMatch(/: [0-9.]+ of 1024\.0 MiB$/);
    expect((await leftovers(core)).staged.length).toBe(1);
    // A second import of the same name while this one runs is a conflict.
    expectError(
      await call("POST", "/v1/images", { name: "slow", kind: "disk", path: fx.qcow2 }),
      409,
      "conflict",
      /already exists/,
    );
    // So are a rename and a delete, which name the operation to cancel.
    expectError(await call("PATCH", "/v1/images/slow", { name: "slow2" }), 409, "conflict", /importing/);
    const del = await call("DELETE", "/v1/images/slow");
    expectError(del, 409, "conflict", new RegExp(`cancel operation ${r.body.id}`));
    expect((await call("DELETE", `/v1/operations/${r.body.id}`)).status).toBe(200);
    const op = (await call("GET", `/v1/operations/${r.body.id}/wait?timeout=30`)).body;
    expect(op.status).toBe("cancelled");
    expect(op.error.code).toBe("cancelled");
    await expectClean("slow");
    for (let i = 0; i < 100 && !srv.slowClosed(); i++) await Bun.sleep(20);
    expect(srv.slowClosed()).toBe(true);
  });

  test("only http and https URLs", async () => {
    expectError(
      await call("POST", "/v1/images", { name: "f", kind: "disk", url: "file:///etc/passwd" }),
      400,
      "invalid_request",
      /only http and https/,
    );
    expectError(
      await call("POST", "/v1/images", { name: "f", kind: "disk", url: "not a url" }),
      400,
      "invalid_request",
      /is not a URL/,
    );
  });
});

describe("POST /v1/images request checks", () => {
  test("exactly one source, in the right place for the kind", async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "s1", kind: "disk" }, /give a url or a path/],
      [{ name: "s2", kind: "disk", url: srv.url("/disk.qcow2"), path: fx.qcow2 }, /not both/],
      [{ name: "s3", kind: "kernel", path: fx.kernel }, /takes kernel and initrd sources/],
      [{ name: "s4", kind: "kernel", initrd: { path: fx.initrd } }, /needs kernel/],
      [{ name: "s5", kind: "disk", path: fx.qcow2, kernel: { path: fx.kernel } }, /belong to kind "kernel"/],
      [{ name: "s6", kind: "kernel", kernel: {} }, /kernel: give a url or a path/],
      [
        { name: "s7", kind: "kernel", kernel: { path: fx.kernel }, initrd: { url: "x", path: fx.initrd } },
        /initrd: give url or path, not both/,
      ],
    ];
    for (const [body, msg] of cases)
      expectError(await call("POST", "/v1/images", body), 400, "invalid_request", msg);
  });

  test("schema errors: unknown fields, wrong kind, bad sha256, bad JSON", async () => {
    expectError(
      await call("POST", "/v1/images", { name: "u", kind: "disk", path: fx.qcow2, extra: 1 }),
      400,
      "invalid_request",
    );
    expectError(
      await call("POST", "/v1/images", { name: "u", kind: "kernel", kernel: { path: fx.kernel, x: 1 } }),
      400,
      "invalid_request",
    );
    expectError(
      await call("POST", "/v1/images", { name: "u", kind: "floppy", path: fx.qcow2 }),
      400,
      "invalid_request",
      /kind/,
    );
    expectError(
      await call("POST", "/v1/images", { name: "u", kind: "disk", path: fx.qcow2, sha256: "xyz" }),
      400,
      "invalid_request",
      /sha256/,
    );
    expectError(
      await call("POST", "/v1/images?wait=true&x=1", { name: "u", kind: "disk", path: fx.qcow2 }),
      400,
      "invalid_request",
    );
    expectError(await call("POST", "/v1/images", "{not json"), 400, "invalid_json");
    expect((await leftovers(core)).rows).not.toContain("u");
  });

  test("invalid names are 400; a taken name is 409", async () => {
    expectError(
      await call("POST", "/v1/images", { name: "Bad_Name", kind: "disk", path: fx.qcow2 }),
      400,
      "invalid_request",
      /image name "Bad_Name" is invalid/,
    );
    expectError(
      await call("POST", "/v1/images", { name: "from-path", kind: "disk", path: fx.qcow2 }),
      409,
      "conflict",
      /image from-path already exists/,
    );
  });
});

describe("PUT /v1/images/{name}/upload", () => {
  test("201 with the image and its Location", async () => {
    const r = await upload("up-disk", "?kind=disk", Bun.file(fx.qcow2));
    expect(r.status).toBe(201);
    expect(r.res.headers.get("location")).toBe("/v1/images/up-disk");
    expect(r.body).toMatchObject({
      name: "up-disk",
      kind: "disk",
      format: "qcow2",
      source: "upload",
      status: "ready",
    });
    expect(r.body.sha256).toBe(await sha256Of(fx.qcow2));
  });

  test("the body is streamed to disk while it arrives, not buffered first", async () => {
    const chunk = new Uint8Array(MiB).fill(1);
    let sent = 0;
    let stagedWhileSending = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 8) {
          c.close();
          return;
        }
        if (sent === 6) {
          const dir = stagingDir(core.config);
          const files = existsSync(dir) ? (await import("node:fs")).readdirSync(dir) : [];
          stagedWhileSending = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
        }
        sent++;
        c.enqueue(chunk);
      },
    });
    const r = await upload("up-stream", "?kind=disk", body);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ format: "raw", virtual_size: 8 * MiB });
    expect(stagedWhileSending).toBeGreaterThan(0);
  });

  test("an ISO upload with a matching sha256", async () => {
    const r = await upload("up-iso", `?kind=iso&sha256=${await sha256Of(fx.iso)}`, Bun.file(fx.iso));
    expect(r.status).toBe(201);
    expect(r.body.format).toBe("iso");
  });

  test("a wrong sha256, an invalid image or a broken body leave nothing behind", async () => {
    expectError(
      await upload("up-bad", `?kind=disk&sha256=${"b".repeat(64)}`, Bun.file(fx.qcow2)),
      400,
      "checksum_mismatch",
    );
    await expectClean("up-bad");
    expectError(await upload("up-bad", "?kind=iso", Bun.file(fx.qcow2)), 400, "invalid_image");
    await expectClean("up-bad");
    expectError(await upload("up-bad", "?kind=disk", ""), 400, "invalid_image", /empty/);
    await expectClean("up-bad");
    let n = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 3) c.error(new Error("client went away"));
        else c.enqueue(new Uint8Array(64 * 1024).fill(3));
      },
    });
    const r = await upload("up-bad", "?kind=disk", broken);
    expectError(r, 400, "upload_failed", /the request body broke off: client went away/);
    await expectClean("up-bad");
  });

  test("query checks: kind required, kernel refused, unknown fields, taken name, invalid name", async () => {
    expectError(await upload("up-q", "", Bun.file(fx.qcow2)), 400, "invalid_request", /kind/);
    expectError(await upload("up-q", "?kind=kernel", Bun.file(fx.kernel)), 400, "invalid_request", /kind/);
    expectError(await upload("up-q", "?kind=disk&x=1", Bun.file(fx.qcow2)), 400, "invalid_request");
    expectError(
      await upload("up-q", "?kind=disk&sha256=zz", Bun.file(fx.qcow2)),
      400,
      "invalid_request",
      /sha256/,
    );
    expectError(await upload("up-disk", "?kind=disk", Bun.file(fx.qcow2)), 409, "conflict", /already exists/);
    expectError(await upload("UP", "?kind=disk", Bun.file(fx.qcow2)), 400, "invalid_request", /is invalid/);
    expect((await leftovers(core)).rows).not.toContain("up-q");
  });
});

describe("GET /v1/images", () => {
  test("lists every image by name, and filters by kind", async () => {
    const all = await call("GET", "/v1/images");
    expect(all.status).toBe(200);
    const names = all.body.map((i: Json) => i.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["from-path", "cd", "kern", "up-disk"]));
    const isos = await call("GET", "/v1/images?kind=iso");
    expect(isos.body.length).toBeGreaterThan(0);
    expect(isos.body.every((i: Json) => i.kind === "iso")).toBe(true);
    const kernels = await call("GET", "/v1/images?kind=kernel");
    expect(kernels.body.map((i: Json) => i.name)).toEqual(expect.arrayContaining(["kern", "kern-url"]));
  });

  test("bad filters are 400", async () => {
    expectError(await call("GET", "/v1/images?kind=floppy"), 400, "invalid_request");
    expectError(await call("GET", "/v1/images?name=x"), 400, "invalid_request");
  });

  test("an unknown image is 404", async () => {
    expectError(await call("GET", "/v1/images/nope"), 404, "not_found", /^image nope does not exist$/);
  });

  test("the OpenAPI document describes the image routes", async () => {
    const doc = await json(await app.handle(new Request("http://localhost/openapi.json")));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/images", "/v1/images/{name}", "/v1/images/{name}/upload"]),
    );
    const put = doc.paths["/v1/images/{name}/upload"].put;
    expect(Object.keys(put.requestBody.content)).toEqual(["application/octet-stream"]);
  });
});

describe("PATCH /v1/images/{name}", () => {
  test("renames: the row changes, the volume and file stay", async () => {
    const before = (
      await call("POST", "/v1/images?wait=true", { name: "ren-a", kind: "disk", path: fx.qcow2 })
    ).body.result;
    const r = await call("PATCH", "/v1/images/ren-a", { name: "ren-b" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "ren-b", id: before.id, volume: before.volume, path: before.path });
    expect(existsSync(before.path)).toBe(true);
    expectError(await call("GET", "/v1/images/ren-a"), 404, "not_found");
    expect((await call("PATCH", "/v1/images/ren-b", { name: "ren-b" })).status).toBe(200);
  });

  test("409 when the name is taken; 400 for a bad name or unknown field; 404 for an unknown image", async () => {
    expectError(
      await call("PATCH", "/v1/images/ren-b", { name: "from-path" }),
      409,
      "conflict",
      /image from-path already exists/,
    );
    expectError(await call("PATCH", "/v1/images/ren-b", { name: "Bad Name" }), 400, "invalid_request");
    expectError(await call("PATCH", "/v1/images/ren-b", { name: "ok", kind: "iso" }), 400, "invalid_request");
    expectError(await call("PATCH", "/v1/images/ren-b", {}), 400, "invalid_request");
    expectError(await call("PATCH", "/v1/images/nope", { name: "x" }), 404, "not_found");
  });
});

describe("DELETE /v1/images/{name}", () => {
  function addVm(name: string, fields: { image?: string; boot?: unknown; diskImage?: string }) {
    const id = crypto.randomUUID();
    const at = new Date().toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, image, boot, created_at, updated_at)
         VALUES (?, ?, 'stopped', 1, 256, ?, ?, ?, ?)`,
      )
      .run(id, name, fields.image ?? null, JSON.stringify(fields.boot ?? { mode: "disk" }), at, at);
    if (fields.diskImage) {
      core.db
        .query(
          `INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size, image)
           VALUES (?, 1, 'data', 'v', '/v', 'qcow2', 'disk', 1, ?)`,
        )
        .run(id, fields.diskImage);
    }
    return () => core.db.query("DELETE FROM vms WHERE id = ?").run(id);
  }

  function addProfile(name: string, spec: unknown) {
    core.db
      .query("INSERT INTO profiles (name, spec, origin) VALUES (?, ?, 'api')")
      .run(name, JSON.stringify(spec));
    return () => core.db.query("DELETE FROM profiles WHERE name = ?").run(name);
  }

  test("removes the volume, its file and the row; answers the image as it was", async () => {
    const img = (await call("GET", "/v1/images/ren-b")).body;
    const r = await call("DELETE", "/v1/images/ren-b");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "ren-b", volume: img.volume, status: "ready" });
    expect(existsSync(img.path)).toBe(false);
    const vols = await core.hv.call("volume.list", { pool: core.config.storage.pool });
    expect(vols.map((v) => v.name)).not.toContain(img.volume);
    expectError(await call("GET", "/v1/images/ren-b"), 404, "not_found");
    expectError(await call("DELETE", "/v1/images/ren-b"), 404, "not_found");
  });

  test("a kernel pair loses both volumes", async () => {
    const img = (await call("GET", "/v1/images/kern")).body;
    expect((await call("DELETE", "/v1/images/kern")).status).toBe(200);
    expect(existsSync(img.path)).toBe(false);
    expect(existsSync(img.initrd_path)).toBe(false);
  });

  test("409 while a VM uses it (vms.image, a disk, or its boot settings); rename is refused too", async () => {
    const users = [
      addVm("vm-root", { image: "from-path" }),
      addVm("vm-disk", { diskImage: "cd" }),
      addVm("vm-kern", { boot: { mode: "kernel", kernel_image: "kern-only", cmdline: "x" } }),
    ];
    expectError(
      await call("DELETE", "/v1/images/from-path"),
      409,
      "conflict",
      /vm vm-root uses image from-path/,
    );
    expectError(await call("PATCH", "/v1/images/from-path", { name: "zz" }), 409, "conflict", /vm vm-root/);
    expectError(await call("DELETE", "/v1/images/cd"), 409, "conflict", /vm vm-disk uses image cd/);
    expectError(
      await call("DELETE", "/v1/images/kern-only"),
      409,
      "conflict",
      /vm vm-kern boots from image kern-only/,
    );
    for (const undo of users) undo();
  });

  test("409 while a profile names it as image, in its disks or its boot; exact names only", async () => {
    const undo = [
      addProfile("p-image", { image: "from-url", size: "small" }),
      addProfile("p-disk", { disks: [{ name: "d", image: "chunked" }] }),
      addProfile("p-boot", { boot: { mode: "iso", iso_image: "cd-url" } }),
      // Substrings and other keys never count.
      addProfile("p-near", { image: "raw-disk-2", description: "raw-disk", disks: [{ name: "raw-disk" }] }),
    ];
    expectError(
      await call("DELETE", "/v1/images/from-url"),
      409,
      "conflict",
      /profile p-image uses image from-url/,
    );
    expectError(await call("DELETE", "/v1/images/chunked"), 409, "conflict", /profile p-disk/);
    expectError(await call("DELETE", "/v1/images/cd-url"), 409, "conflict", /profile p-boot/);
    expect((await call("DELETE", "/v1/images/raw-disk")).status).toBe(200);
    for (const u of undo) u();
    expect((await call("DELETE", "/v1/images/from-url")).status).toBe(200);
  });

  test("an unreadable profile spec refuses the delete rather than guess", async () => {
    core.db.query("INSERT INTO profiles (name, spec, origin) VALUES ('p-broken', '{not json', 'api')").run();
    expectError(
      await call("DELETE", "/v1/images/chunked"),
      409,
      "conflict",
      /profile p-broken may use image chunked/,
    );
    core.db.query("DELETE FROM profiles WHERE name = 'p-broken'").run();
    expect((await call("DELETE", "/v1/images/chunked")).status).toBe(200);
  });
});
