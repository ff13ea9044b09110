// A tiny Elysia app with berth's body guard and error mapping whose routes answer what readRequestValues read.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Elysia } from "elysia";
import { bodyGuard } from "../../../src/routes/body-guard.ts";
import { errorMapping } from "../../../src/routes/errors.ts";
import { type ReadValuesOptions, readRequestValues } from "../../../src/routes/request-values.ts";

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** What a route saw: every name's values, `has` of the probed names, the upload's content hash. */
async function report(request: Request, opts: ReadValuesOptions, probe: string[]) {
  await using values = await readRequestValues(request, opts);
  const upload = values.file("file");
  const named = values.names().filter((n) => values.all(n).length > 0);
  return {
    values: Object.fromEntries(named.map((n) => [n, values.all(n)])),
    first: Object.fromEntries(named.map((n) => [n, values.get(n)])),
    names: values.names(),
    has: Object.fromEntries(probe.map((n) => [n, values.has(n)])),
    file: upload && {
      ...upload,
      existed: existsSync(upload.path),
      sha256: createHash("sha256").update(readFileSync(upload.path)).digest("hex"),
    },
    bodyUsed: request.bodyUsed,
  };
}

/**
 * /kahu: forms and JSON, `file` parts streamed to `uploadDir` (at most `maxUpload` bytes), other bodies 415.
 * /pvc: forms only, JSON and other bodies ignored. Both bounded by `maxBody` (the guard's limit too).
 */
export function valuesApp(uploadDir: string, maxBody: number, maxUpload: number) {
  const probe = ["flag_yes_i_really_mean_it", "flag_force", "flag_absent", "file"];
  const kahu: ReadValuesOptions = {
    json: true,
    otherBodies: "refuse",
    maxValueBytes: maxBody,
    uploads: { names: ["file"], dir: uploadDir, maxBytes: maxUpload },
  };
  const pvc: ReadValuesOptions = { json: false, otherBodies: "ignore", maxValueBytes: maxBody };
  return new Elysia()
    .use(errorMapping())
    .use(bodyGuard(maxBody))
    .post("/kahu", ({ request }) => report(request, kahu, probe), { parse: "none" })
    .post("/pvc", ({ request }) => report(request, pvc, probe), { parse: "none" })
    .put("/pvc", ({ request }) => report(request, pvc, probe), { parse: "none" })
    .post("/parsed", (ctx) => report(ctx.request, pvc, [ctx.body === undefined ? "x" : "y"]));
}

/** Upload directories left in `dir` (none once every request is done). */
export const leftovers = (dir: string) => readdirSync(dir);

/** Real curl against `url`: its status and JSON answer. */
export async function curl(url: string, args: string[], cwd: string) {
  const proc = Bun.spawn(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", ...args, url], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`curl failed (${code}): ${err}`);
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), body: JSON.parse(out.slice(0, cut)) };
}

/** `bytes` of multipart framing as curl writes it, pulled chunk by chunk and counted (`highWaterMark: 0`). */
export function streamed(parts: Uint8Array[], chunk = 64 * KiB) {
  const state = { pulled: 0, cancelled: false };
  const all = Buffer.concat(parts);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (state.pulled >= all.length) return c.close();
        c.enqueue(all.subarray(state.pulled, state.pulled + chunk));
        state.pulled = Math.min(all.length, state.pulled + chunk);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state, length: all.length };
}

/** curl's boundary: 24 dashes and 16 hex digits (`-F` framing of curl 7.88). */
export const BOUNDARY = "------------------------4f6e0c7f2b9d1a35";
export const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

/** One part as curl frames it: `-F name=value`, or `-F name=@filename` (a file part, octet-stream). */
export function part(name: string, content: string | Uint8Array, filename?: string): Uint8Array {
  const head =
    filename === undefined
      ? `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`
      : `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(content), Buffer.from("\r\n")]);
}

export const closing = () => Buffer.from(`--${BOUNDARY}--\r\n`);
