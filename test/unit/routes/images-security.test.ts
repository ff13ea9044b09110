// /v1/images on the test driver: host paths only from [images] import_dirs, URLs only to allowed addresses, credentials never shown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import type { BerthEvent } from "../../../src/core/events.ts";
import { poolDir, stagingDir } from "../../../src/core/paths.ts";
import { createApp } from "../../../src/routes/app.ts";
import type { Json } from "../../support/http.ts";
import {
  type Fixtures,
  imageCore,
  makeFixtures,
  serveFixtures,
  type TestCore,
} from "../core/images-fixtures.ts";

let fx: Fixtures;
let srv: ReturnType<typeof serveFixtures>;
/** Defaults: no import dirs, private networks refused. */
let locked: TestCore;
/** Loopback allowed (the fixture server lives there), the fixtures' dir allowed. */
let open: TestCore;

beforeAll(async () => {
  fx = makeFixtures();
  srv = serveFixtures(fx);
  locked = await imageCore("", { allowPrivate: false });
  open = await imageCore("", { importDirs: [fx.dir] });
});
afterAll(async () => {
  srv.stop();
  await locked.close();
  await open.close();
  fx.remove();
});

/** No image row, nothing staged, no pool file (the pool itself may not exist yet). */
function nothingStored(core: TestCore): boolean {
  const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  const rows = core.db.query("SELECT name FROM images").all();
  return (
    rows.length === 0 && ls(stagingDir(core.config)).length === 0 && ls(poolDir(core.config)).length === 0
  );
}

async function call(core: TestCore, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await createApp(core).handle(new Request(`http://localhost${path}`, init));
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

describe("host paths with the defaults: path imports are off", () => {
  test("every path, even an existing regular file, is 403 path_not_allowed saying why", async () => {
    for (const path of [
      fx.qcow2,
      "/etc/shadow",
      "/etc/berth/berth.toml",
      `${locked.config.data_dir}/berth.db`,
    ]) {
      const r = await call(locked, "POST", "/v1/images", { name: "p", kind: "disk", path });
      expect(r.status).toBe(403);
      expect(r.body.error).toEqual({
        code: "path_not_allowed",
        message:
          "importing from host paths is off: [images] import_dirs names no directory (upload the image or import it from a URL)",
      });
    }
    expect(nothingStored(locked)).toBe(true);
  });
});

describe("URLs with the defaults: only public addresses", () => {
  test("loopback in every spelling is 400 address_not_allowed before an operation starts", async () => {
    const port = new URL(srv.url("/")).port;
    for (const host of [
      "127.0.0.1",
      "[::1]",
      "2130706433",
      "0x7f000001",
      "[::ffff:127.0.0.1]",
      "169.254.169.254",
    ]) {
      const r = await call(locked, "POST", "/v1/images", {
        name: "ssrf",
        kind: "disk",
        url: `http://${host}:${port}/disk.qcow2`,
      });
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({
        code: "address_not_allowed",
        message: "image: refused: address not allowed",
      });
    }
    expect(nothingStored(locked)).toBe(true);
  });

  test("a name that resolves to loopback fails its operation with the same refusal; nothing is stored", async () => {
    const url = srv.url("/disk.qcow2").replace("127.0.0.1", "localhost");
    const r = await call(locked, "POST", "/v1/images?wait=true", { name: "ssrf-dns", kind: "disk", url });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("address_not_allowed");
    expect(r.body.error.message).toBe(`image ${url}: refused: address not allowed`);
    expect(nothingStored(locked)).toBe(true);
  });
});

describe("credentials in an image URL", () => {
  test("are stored as given, used for the download, and shown as ***@ in answers, operations and events", async () => {
    const events: BerthEvent[] = [];
    const off = open.events.subscribe((e) => events.push(e));
    const url = srv.url("/disk.qcow2").replace("http://", "http://mirror-user:s3cret@");
    const shown = srv.url("/disk.qcow2").replace("http://", "http://***@");
    const r = await call(open, "POST", "/v1/images?wait=true", { name: "cred", kind: "disk", url });
    const failed = await call(open, "POST", "/v1/images?wait=true", {
      name: "cred-404",
      kind: "kernel",
      kernel: { url: url.replace("/disk.qcow2", "/missing") },
    });
    off();
    expect(r.status).toBe(200);
    expect(r.body.result.source).toBe(shown);
    expect(failed.body.error.message).toBe(
      `kernel ${shown.replace("/disk.qcow2", "/missing")}: answered 404 Not Found`,
    );
    const row = open.db.query("SELECT source FROM images WHERE name = 'cred'").get() as { source: string };
    expect(row.source).toBe(url);
    const seen = JSON.stringify([
      r.body,
      failed.body,
      (await call(open, "GET", "/v1/images/cred")).body,
      (await call(open, "GET", "/v1/images")).body,
      (await call(open, "GET", `/v1/operations/${r.body.id}`)).body,
      (await call(open, "GET", `/v1/operations/${failed.body.error.details.operation}`)).body,
      (await call(open, "GET", "/v1/operations")).body,
      events,
    ]);
    expect(seen).toContain("***@");
    expect(seen).not.toContain("s3cret");
    expect(seen).not.toContain("mirror-user");
  });
});
