// The shared form reader: what curl and Kahu's Python client send, byte for byte, read through an Elysia route behind the body guard.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_VALUES, removeLeftoverUploads } from "../../../src/routes/request-values.ts";
import { json } from "../../support/http.ts";
import {
  BOUNDARY,
  closing,
  curl,
  KiB,
  leftovers,
  MiB,
  MULTIPART,
  part,
  streamed,
  valuesApp,
} from "./request-values-app.ts";

const MAX_BODY = 64 * KiB;
const MAX_UPLOAD = 4 * MiB;
let work: string; // curl's working directory (the files it sends)
let uploads: string; // the upload directory the routes are given
let app: ReturnType<typeof valuesApp>;
let roomy: ReturnType<typeof valuesApp>; // max_body_bytes 16 MiB: only the value count bounds a form
let server: ReturnType<typeof Bun.serve>;
let base: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "berth-values-"));
  uploads = join(work, "uploads");
  app = valuesApp(uploads, MAX_BODY, MAX_UPLOAD);
  roomy = valuesApp(uploads, 16 * MiB, MAX_UPLOAD);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => {
  server.stop(true);
  rmSync(work, { recursive: true, force: true });
});

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerthTestKeyNotARealKey0000000000000000 berth@test";

type Body = string | Uint8Array | ReadableStream<Uint8Array> | null;

const send = (path: string, body: Body, headers: Record<string, string>, into = app) =>
  into.handle(
    new Request(`http://localhost${path}`, { method: "POST", headers, body, duplex: "half" } as RequestInit),
  );

describe("curl, as the fronts' documents call it", () => {
  test("-F profile=... -F ssh-key=@id_rsa.pub: a plain part and a file part whose final newline is trimmed", async () => {
    writeFileSync(join(work, "id_rsa.pub"), `${KEY}\n`);
    const r = await curl(
      `${base}/kahu`,
      ["-F", "profile=debian-jessie-amd64", "-F", "size=1cpu256mb", "-F", "ssh-key=@id_rsa.pub"],
      work,
    );
    expect(r.status).toBe(200);
    expect(r.body.values).toEqual({
      profile: ["debian-jessie-amd64"],
      size: ["1cpu256mb"],
      "ssh-key": [KEY],
    });
    expect(r.body.file).toBeUndefined();
  });

  test("a key file ending in CRLF loses the CRLF; only one line end is trimmed", async () => {
    writeFileSync(join(work, "crlf.pub"), `${KEY}\r\n`);
    writeFileSync(join(work, "two.pub"), `${KEY}\n\n`);
    writeFileSync(join(work, "none.pub"), KEY);
    const r = await curl(
      `${base}/kahu`,
      ["-F", "a=@crlf.pub", "-F", "b=@two.pub", "-F", "c=@none.pub"],
      work,
    );
    expect(r.body.values).toEqual({ a: [KEY], b: [`${KEY}\n`], c: [KEY] });
  });

  test("-d a=b -d c=d (urlencoded) and an empty -d flag_yes_i_really_mean_it=, present by name", async () => {
    const r = await curl(`${base}/pvc`, ["-d", "a=b", "-d", "c=d", "-d", "flag_yes_i_really_mean_it="], work);
    expect(r.status).toBe(200);
    expect(r.body.values).toEqual({ a: ["b"], c: ["d"], flag_yes_i_really_mean_it: [""] });
    expect(r.body.has).toMatchObject({
      flag_yes_i_really_mean_it: true,
      flag_force: false,
      flag_absent: false,
    });
  });

  test("a query string plus a form: every value kept, query first, so get() takes a name in both from the query", async () => {
    const r = await curl(
      `${base}/pvc?tag=q1&name=from-query&flag_force`,
      ["-d", "tag=b1", "-d", "tag=b2", "-d", "name=from-body", "-d", "limit=%5Eweb"],
      work,
    );
    expect(r.body.values).toEqual({
      tag: ["q1", "b1", "b2"],
      name: ["from-query", "from-body"],
      flag_force: [""],
      limit: ["^web"],
    });
    expect(r.body.first).toMatchObject({ name: "from-query", tag: "q1" });
    expect(r.body.has.flag_force).toBe(true);
  });

  test("repeated multipart names keep the order sent, file parts included", async () => {
    writeFileSync(join(work, "tag.txt"), "from-file\n");
    const r = await curl(`${base}/pvc`, ["-F", "tag=a", "-F", "tag=@tag.txt", "-F", "tag=c"], work);
    expect(r.body.values).toEqual({ tag: ["a", "from-file", "c"] });
  });

  test("the framing the tests build is curl's, byte for byte (boundary aside)", async () => {
    writeFileSync(join(work, "k.pub"), `${KEY}\n`);
    let raw = "";
    let type = "";
    const capture = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(r) {
        type = r.headers.get("content-type") ?? "";
        raw = await r.text();
        return Response.json({});
      },
    });
    try {
      await curl(`http://127.0.0.1:${capture.port}/`, ["-F", "profile=p", "-F", "ssh-key=@k.pub"], work);
    } finally {
      capture.stop(true);
    }
    const boundary = type.split("boundary=")[1] ?? "";
    expect(boundary).toMatch(/^-{24}[0-9a-f]{16}$/);
    const built = Buffer.concat([part("profile", "p"), part("ssh-key", `${KEY}\n`, "k.pub"), closing()]);
    expect(raw.replaceAll(boundary, BOUNDARY)).toBe(built.toString());
  });
});

describe("Kahu's Python client (requests files=: every field a file part)", () => {
  // python-requests 2.34.2 `session.post(url, files=form)` as quickstart.py sends it, captured on a socket.
  const b = "647302ff3dce8e3dc6bdaf27e8c3d24c";
  const body =
    `--${b}\r\nContent-Disposition: form-data; name="size"; filename="size"\r\n\r\n1cpu256mb\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="profile"; filename="profile"\r\n\r\ndebian-jessie-amd64\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="ssh-key"; filename="id_ed25519.pub"\r\n\r\n${KEY}\n\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="name"; filename="name"\r\n\r\nNew Developer Instance\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="hypervisor"; filename="hypervisor"\r\n\r\n/v0/hypervisor/instance/0\r\n` +
    `--${b}--\r\n`;

  test("each file part is a value; the key's newline is trimmed, the others have none to trim", async () => {
    const res = await send("/kahu", body, { "content-type": `multipart/form-data; boundary=${b}` });
    expect(res.status).toBe(200);
    expect((await json(res)).values).toEqual({
      size: ["1cpu256mb"],
      profile: ["debian-jessie-amd64"],
      "ssh-key": [KEY],
      name: ["New Developer Instance"],
      hypervisor: ["/v0/hypervisor/instance/0"],
    });
  });
});

describe("uploads: streamed to a temporary file, bounded, removed", () => {
  test("curl -F file=@disk.qcow2, larger than max_body_bytes: on disk while the route runs, gone after", async () => {
    const image = Buffer.alloc(3 * MiB, 7);
    image.write("QFI\xfb", 0, "latin1");
    writeFileSync(join(work, "disk.qcow2"), image);
    const r = await curl(`${base}/kahu`, ["-F", "name=vol", "-F", "file=@disk.qcow2"], work);
    expect(r.status).toBe(200);
    expect(r.body.values).toEqual({ name: ["vol"] });
    expect(r.body.has.file).toBe(true);
    expect(r.body.file).toMatchObject({ filename: "disk.qcow2", size: image.length, existed: true });
    expect(r.body.file.type).toBe("application/octet-stream");
    expect(r.body.file.sha256).toBe(createHash("sha256").update(image).digest("hex"));
    expect(r.body.file.path.startsWith(uploads)).toBe(true);
    expect(existsSync(r.body.file.path)).toBe(false);
    expect(leftovers(uploads)).toEqual([]);
  });

  test("a file part past max_upload_bytes: 413, the body not read further, its temp file gone", async () => {
    const { stream, state } = streamed([
      part("name", "vol"),
      part("file", Buffer.alloc(32 * MiB, 1), "big.qcow2"),
      closing(),
    ]);
    const res = await send("/kahu", stream, { "content-type": MULTIPART });
    expect(res.status).toBe(413);
    const err = (await json(res)).error;
    expect(err).toMatchObject({ code: "payload_too_large", details: { limit_bytes: MAX_UPLOAD } });
    expect(err.message).toContain("limits.max_upload_bytes");
    expect(state.pulled).toBeLessThan(MAX_UPLOAD + 2 * MiB);
    expect(leftovers(uploads)).toEqual([]);
  });

  test("a Content-Length past what the form may carry: 413 before a byte is read", async () => {
    const { stream, state } = streamed([part("file", Buffer.alloc(MiB), "x"), closing()]);
    const res = await send("/kahu", stream, {
      "content-type": MULTIPART,
      "content-length": String(64 * MiB),
    });
    expect(res.status).toBe(413);
    expect(state.pulled).toBe(0);
  });

  test("a client that goes away mid-upload: 400, its temp file gone", async () => {
    const head = Buffer.concat([
      part("name", "vol"),
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="d"\r\n\r\n`),
    ]);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(head);
        else if (sent < 8) c.enqueue(new Uint8Array(256 * KiB));
        else c.error(new Error("connection reset by peer"));
        sent++;
      },
    });
    const res = await send("/kahu", stream, { "content-type": MULTIPART });
    expect(res.status).toBe(400);
    expect(leftovers(uploads)).toEqual([]);
  });

  test("a second file part for the same upload name: 400, nothing left", async () => {
    const body = Buffer.concat([part("file", "a", "a"), part("file", "b", "b"), closing()]);
    const res = await send("/kahu", body, { "content-type": MULTIPART });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toContain('more than one file for "file"');
    expect(leftovers(uploads)).toEqual([]);
  });

  test("a file part of another name is a text value, bounded by max_body_bytes (413)", async () => {
    const big = Buffer.concat([part("ssh-key", Buffer.alloc(MAX_BODY + 1, 0x41), "id_rsa.pub"), closing()]);
    const res = await send("/kahu", big, { "content-type": MULTIPART });
    expect(res.status).toBe(413);
    expect((await json(res)).error.message).toContain("limits.max_body_bytes");
    const pvc = await send("/pvc", Buffer.concat([part("file", "x", "x"), closing()]), {
      "content-type": MULTIPART,
    });
    expect((await json(pvc)).values).toEqual({ file: ["x"] });
  });

  test("removeLeftoverUploads removes upload directories of a previous run and nothing else", async () => {
    const dir = join(work, "leftover");
    mkdirSync(join(dir, "form-upload-Ab12Cd"), { recursive: true });
    writeFileSync(join(dir, "form-upload-Ab12Cd", "1"), "x");
    writeFileSync(join(dir, "form-upload-notmine"), "keep");
    writeFileSync(join(dir, "img-0.part"), "keep");
    await removeLeftoverUploads(dir);
    expect(leftovers(dir).sort()).toEqual(["form-upload-notmine", "img-0.part"]);
    await removeLeftoverUploads(join(work, "absent"));
  });
});

describe("malformed, unsupported and oversized bodies", () => {
  test("a multipart body cut before its closing boundary, without a boundary, or with a broken part header: 400", async () => {
    const cut = Buffer.concat([part("name", "vol")]);
    const bodies: [string, Body][] = [
      [MULTIPART, cut],
      ["multipart/form-data", Buffer.concat([part("a", "b"), closing()])],
      [
        MULTIPART,
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\nbroken header line\r\n\r\nv\r\n--${BOUNDARY}--\r\n`,
      ],
      [MULTIPART, `--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--${BOUNDARY}--\r\n`],
    ];
    for (const [type, body] of bodies) {
      const res = await send("/kahu", body, { "content-type": type });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe("invalid_request");
    }
  });

  test(`a form of 100 000 parts or pairs: 413 at value ${MAX_VALUES + 1}, quickly`, async () => {
    const parts = Array.from({ length: 100_000 }, () => part("a", "b"));
    const t0 = performance.now();
    const multi = await send(
      "/pvc",
      Buffer.concat([...parts, closing()]),
      { "content-type": MULTIPART },
      roomy,
    );
    const url = await send(
      "/pvc",
      "a=b&".repeat(100_000),
      { "content-type": "application/x-www-form-urlencoded" },
      roomy,
    );
    const query = await send(`/pvc?${"a&".repeat(MAX_VALUES + 1)}`, null, {}, roomy);
    for (const res of [multi, url, query]) {
      expect(res.status).toBe(413);
      expect((await json(res)).error.details).toEqual({ limit_values: MAX_VALUES });
    }
    expect(performance.now() - t0).toBeLessThan(3000);
    const at = await send(
      "/pvc",
      "a=b&".repeat(MAX_VALUES),
      { "content-type": "application/x-www-form-urlencoded" },
      roomy,
    );
    expect((await json(at)).values.a).toHaveLength(MAX_VALUES);
    const exact = Buffer.concat([...parts.slice(0, MAX_VALUES), closing()]);
    const multiAt = await send("/pvc", exact, { "content-type": MULTIPART }, roomy);
    expect((await json(multiAt)).values.a).toHaveLength(MAX_VALUES);
    const half = "a=b&".repeat(MAX_VALUES / 2 + 1);
    const both = await send(
      `/pvc?${half}`,
      half,
      { "content-type": "application/x-www-form-urlencoded" },
      roomy,
    );
    expect(both.status).toBe(413);
  });

  test("an urlencoded body past max_body_bytes: 413; a field name past 256 bytes: 400", async () => {
    const big = await send("/pvc", `a=${"x".repeat(MAX_BODY)}`, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(big.status).toBe(413);
    const name = await send("/pvc", `${"n".repeat(257)}=1`, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(name.status).toBe(400);
  });

  test("text/plain or a body without Content-Type where forms are read: 415; an empty body is no body", async () => {
    for (const headers of [{ "content-type": "text/plain" }, {}] as Record<string, string>[]) {
      const res = await send("/kahu", "a=b", headers);
      expect(res.status).toBe(415);
      expect((await json(res)).error.code).toBe("unsupported_media_type");
    }
    const empty = await send("/kahu?a=1", null, {});
    expect((await json(empty)).values).toEqual({ a: ["1"] });
  });

  test("a route that let Elysia parse the body first fails loudly (500), never answers from half the values", async () => {
    const res = await send("/parsed", "a=b", { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(500);
  });
});

describe("JSON bodies, per call", () => {
  const doc = { name: "web", tag: ["a", "b"], count: 3, force: true, gone: null, empty: "" };

  test("json: true reads an object's members as values (numbers and booleans as text, lists repeated, null absent)", async () => {
    const res = await send("/kahu?tag=q", JSON.stringify(doc), { "content-type": "application/json" });
    expect((await json(res)).values).toEqual({
      tag: ["q", "a", "b"],
      name: ["web"],
      count: ["3"],
      force: ["true"],
      empty: [""],
    });
  });

  test("json: true refuses malformed JSON, a non-object, and nested values (400)", async () => {
    for (const raw of ["{", "[1]", '"x"', '{"a":{"b":1}}', '{"a":[[1]]}']) {
      const res = await send("/kahu", raw, { "content-type": "application/json" });
      expect(res.status).toBe(400);
    }
  });

  test("json: false (PVC) ignores a JSON body, and any other body, leaving it unread", async () => {
    for (const type of ["application/json", "application/xml"]) {
      const res = await send("/pvc?flag_force", JSON.stringify(doc), { "content-type": type });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.values).toEqual({ flag_force: [""] });
      expect(body.bodyUsed).toBe(false);
    }
  });
});
