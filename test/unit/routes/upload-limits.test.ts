// PUT /v1/images/{name}/upload against [limits]: 413 past max_upload_bytes and 507 past the free space, before reading.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { uploadRoom } from "../../../src/core/images/import-upload.ts";
import { stagingDir } from "../../../src/core/paths.ts";
import { createApp } from "../../../src/routes/app.ts";
import { type Json, json } from "../../support/http.ts";
import { imageCore, MiB, type TestCore } from "../core/images-fixtures.ts";

let small: TestCore; // max_upload_bytes = 4 MiB
let huge: TestCore; // max_upload_bytes = 1 PiB: only the free space bounds an upload
let smallApp: ReturnType<typeof createApp>;
let hugeApp: ReturnType<typeof createApp>;

beforeAll(async () => {
  small = await imageCore("[limits]\nmax_upload_bytes = 4194304");
  huge = await imageCore(`[limits]\nmax_upload_bytes = ${2 ** 50}`);
  smallApp = createApp(small);
  hugeApp = createApp(huge);
});
afterAll(async () => {
  await small.close();
  await huge.close();
});

/** A body that counts the bytes it was asked for: `total` bytes of 0x01 (finite: code without limits stores it). */
function counted(total = 16 * MiB) {
  const state = { pulled: 0 };
  const chunk = new Uint8Array(256 * 1024).fill(1);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (state.pulled >= total) return c.close();
        state.pulled += chunk.length;
        c.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

async function upload(
  app: ReturnType<typeof createApp>,
  name: string,
  body: ReadableStream<Uint8Array>,
  length?: number,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (length !== undefined) headers["content-length"] = String(length);
  const res = await app.handle(
    new Request(`http://localhost/v1/images/${name}/upload?kind=disk`, {
      method: "PUT",
      headers,
      body,
      duplex: "half",
    } as RequestInit),
  );
  return { status: res.status, body: (await json(res)) as Json };
}

/** No image row and no staged file (the pool may not exist yet: nothing was ever stored). */
function expectNothingLeft(core: TestCore, name: string) {
  expect(core.db.query("SELECT name FROM images WHERE name = ?").get(name)).toBeNull();
  const dir = stagingDir(core.config);
  expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
}

describe("upload limits", () => {
  test("a declared length past max_upload_bytes: 413 before a byte is read, nothing left behind", async () => {
    const { stream, state } = counted();
    const r = await upload(smallApp, "ul-big", stream, 900 * 2 ** 30);
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: "payload_too_large", details: { limit_bytes: 4 * MiB } });
    expect(r.body.error.message).toContain("limits.max_upload_bytes");
    expect(state.pulled).toBe(0);
    expectNothingLeft(small, "ul-big");
  });

  test("a declared length past the free space: 507 insufficient_storage before a byte is read", async () => {
    const room = await uploadRoom(huge);
    expect(room).toBeLessThan(2 ** 49);
    const { stream, state } = counted();
    const r = await upload(hugeApp, "ul-full", stream, 2 ** 49);
    expect(r.status).toBe(507);
    expect(r.body.error.code).toBe("insufficient_storage");
    expect(r.body.error.details.bytes).toBe(2 ** 49);
    expect(r.body.error.details.free_bytes).toBeLessThan(2 ** 49);
    expect(state.pulled).toBe(0);
    expectNothingLeft(huge, "ul-full");
  });

  test("a chunked upload is cut off just past max_upload_bytes (413, nothing left); one within it, past 1 MiB, is stored", async () => {
    const { stream, state } = counted();
    const r = await upload(smallApp, "ul-chunked", stream);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe("payload_too_large");
    expect(state.pulled).toBeLessThanOrEqual(4 * MiB + 2 * 256 * 1024);
    expectNothingLeft(small, "ul-chunked");

    const fits = counted(3 * MiB);
    const ok = await upload(smallApp, "ul-fits", fits.stream, 3 * MiB);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ name: "ul-fits", format: "raw", virtual_size: 3 * MiB });
  });
});
