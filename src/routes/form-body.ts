// Streams an urlencoded or multipart body through busboy: values kept in memory (bounded), named file parts to disk.
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import busboy from "busboy";
import { PayloadTooLarge } from "../core/limits.ts";
import { AppError, asInsufficientStorage, BadRequest } from "../errors.ts";

/** A file part streamed to disk; `path` lives until the values are disposed (move it away to keep it). */
export interface UploadedFile {
  readonly path: string;
  readonly size: number;
  /** The client's file name, without any directory part ("" when it sent none). */
  readonly filename: string;
  /** The part's Content-Type (application/octet-stream when it sent none). */
  readonly type: string;
}

/** Which file parts go to disk rather than into memory, where, and how large each may be. */
export interface UploadOptions {
  /** Field names whose file parts are streamed to a temporary file; every other file part is a text value. */
  readonly names: readonly string[];
  /** A directory on the disk the upload is bound for (berth's staging dir); created if missing. */
  readonly dir: string;
  /** [limits] max_upload_bytes: 413 for a larger file part. */
  readonly maxBytes: number;
}

export interface FormLimits {
  /** [limits] max_body_bytes: everything but upload files (values, text file parts, framing) together. */
  readonly maxValueBytes: number;
  /** Values the whole body may carry (fields and file parts together). */
  readonly maxValues: number;
  /** Values counted before the body (the query string's), for the message. */
  readonly countedBefore: number;
  /** Longest field name, in bytes. */
  readonly maxNameBytes: number;
  readonly uploads: UploadOptions | undefined;
}

export interface ParsedForm {
  /** In the order the client sent them. */
  readonly values: [string, string][];
  readonly files: Map<string, UploadedFile>;
  /** The temporary directory holding `files` (null when no file was stored). */
  readonly dir: string | null;
}

/** Temporary directories of form uploads inside `UploadOptions.dir`: the prefix, then mkdtemp's six characters. */
const UPLOAD_DIR_PREFIX = "form-upload-";
const UPLOAD_DIR = /^form-upload-[A-Za-z0-9]{6}$/;

const valuesTooLarge = (limit: number) =>
  new PayloadTooLarge(
    `the form's values are larger than ${limit} bytes (limits.max_body_bytes); only its uploads may be larger`,
    limit,
  );

export const tooManyValues = (limit: number) =>
  new AppError(413, "payload_too_large", `the request carries more than ${limit} values`, {
    details: { limit_values: limit },
  });

/** Room per upload name for its part's headers and what the pipeline holds, so its own limit speaks first. */
const UPLOAD_SLACK = 1 << 20;

/**
 * The most bytes a form with these limits may take: max_body_bytes, plus a full upload (and slack) per
 * upload name. Checked against Content-Length and as the body streams, so no framing makes it endless.
 */
export function formByteBound(limits: FormLimits): number {
  const uploads = limits.uploads;
  return limits.maxValueBytes + (uploads ? uploads.names.length * (uploads.maxBytes + UPLOAD_SLACK) : 0);
}

/** One trailing line end (LF or CRLF) off a text file's content: `curl -F key=@id_rsa.pub` sends the file's newline. */
export function trimFinalNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}

/**
 * Reads `body` (of `contentType`, urlencoded or multipart) within `limits`. On any failure the files
 * already stored are removed before it throws: 400 malformed, 413 too large or too many, 507 disk full.
 */
export async function parseFormBody(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  limits: FormLimits,
): Promise<ParsedForm> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      defParamCharset: "utf8",
      limits: {
        fieldNameSize: limits.maxNameBytes + 1,
        fieldSize: limits.maxValueBytes + 1,
        // busboy signals a count limit on reaching it: one more, so that reaching it means more than allowed.
        fields: limits.maxValues + 1,
        files: limits.maxValues + 1,
        parts: limits.maxValues + 1,
      },
    });
  } catch (e) {
    throw new BadRequest(`malformed form body: ${(e as Error).message}`, { cause: e });
  }
  const form = new FormSink(parser, limits);
  const bound = formByteBound(limits);
  const source = Readable.fromWeb(body as NodeReadableStream<Uint8Array>);
  try {
    await pipeline(
      source,
      async function* countBytes(chunks: AsyncIterable<Uint8Array>) {
        let total = 0;
        for await (const chunk of chunks) {
          total += chunk.byteLength;
          if (total > bound) throw formTooLarge(limits);
          yield chunk;
        }
      },
      parser,
    );
  } catch (e) {
    form.fail(e);
  }
  await form.settled();
  if (form.failure !== undefined) {
    await form.removeFiles();
    throw form.failure;
  }
  return form.result();
}

/** 413 for a body past `formByteBound` (by its Content-Length, or as it streams). */
export function formTooLarge(limits: FormLimits): PayloadTooLarge {
  if (!limits.uploads) return valuesTooLarge(limits.maxValueBytes);
  return new PayloadTooLarge(
    `the form is larger than ${formByteBound(limits)} bytes (limits.max_body_bytes, plus limits.max_upload_bytes and 1 MiB per upload field: ${limits.uploads.names.join(", ")})`,
    formByteBound(limits),
  );
}

const uploadTooLarge = (uploads: UploadOptions, name: string) =>
  new PayloadTooLarge(
    `the file part "${name}" is larger than ${uploads.maxBytes} bytes (limits.max_upload_bytes)`,
    uploads.maxBytes,
  );

/** What busboy's events build: the values in order, the stored files, and the first failure. */
class FormSink {
  readonly values: [string, string][] = [];
  readonly files = new Map<string, UploadedFile>();
  failure: AppError | undefined;
  #valueBytes = 0;
  #valueCount = 0;
  #pending: Promise<void>[] = [];
  #dir: Promise<string> | null = null;
  #dirPath: string | null = null;

  constructor(
    readonly parser: busboy.Busboy,
    readonly limits: FormLimits,
  ) {
    const tooMany = () => this.fail(tooManyValues(limits.maxValues + limits.countedBefore));
    parser.on("partsLimit", tooMany).on("filesLimit", tooMany).on("fieldsLimit", tooMany);
    parser.on("field", (name, value, info) => {
      if (!this.#named(name, info.nameTruncated)) return;
      if (info.valueTruncated) return this.fail(valuesTooLarge(limits.maxValueBytes));
      if (this.#count(Buffer.byteLength(value))) this.values.push([name, value]);
    });
    parser.on("file", (name, stream, info) => {
      if (!this.#named(name, false)) return stream.resume();
      const uploads = limits.uploads;
      const track = (work: Promise<void>) => this.#pending.push(work.catch((e) => this.fail(e)));
      if (uploads?.names.includes(name)) track(this.#store(uploads, name, stream, info));
      else track(this.#text(name, stream));
    });
  }

  /** Records the first failure and stops the parser (which stops reading the request). */
  fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure =
      e instanceof AppError
        ? e
        : (asInsufficientStorage(e, "form upload") ??
          new BadRequest(`the form body is malformed or broke off: ${(e as Error).message}`, { cause: e }));
    this.parser.destroy(this.failure);
  }

  /** Every file part's work done (never rejects: failures land in `failure`). */
  async settled(): Promise<void> {
    for (let seen = -1; seen < this.#pending.length; ) {
      seen = this.#pending.length;
      await Promise.all(this.#pending);
    }
  }

  async removeFiles(): Promise<void> {
    const dir = await this.#dir?.catch(() => null);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  result(): ParsedForm {
    return { values: this.values, files: this.files, dir: this.#dirPath };
  }

  /** Counts a value and checks its name; false (and failed) for one too many or a bad name. */
  #named(name: string | undefined, truncated: boolean): name is string {
    if (++this.#valueCount > this.limits.maxValues) {
      this.fail(tooManyValues(this.limits.maxValues + this.limits.countedBefore));
      return false;
    }
    if (name === undefined || name === "") {
      this.fail(new BadRequest("malformed form body: a part has no name"));
      return false;
    }
    if (truncated || Buffer.byteLength(name) > this.limits.maxNameBytes) {
      this.fail(new BadRequest(`a form field name is longer than ${this.limits.maxNameBytes} bytes`));
      return false;
    }
    return true;
  }

  /** Adds `bytes` to the values' total; false (and failed) past the limit. */
  #count(bytes: number): boolean {
    this.#valueBytes += bytes;
    if (this.#valueBytes <= this.limits.maxValueBytes) return true;
    this.fail(valuesTooLarge(this.limits.maxValueBytes));
    return false;
  }

  /** A file part that is a value (an ssh key, or every field of Kahu's Python client): its text. */
  async #text(name: string, stream: Readable): Promise<void> {
    const slot = this.values.push([name, ""]) - 1;
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!this.#count(chunk.byteLength)) return void stream.destroy();
      chunks.push(chunk);
    }
    this.values[slot] = [name, trimFinalNewline(Buffer.concat(chunks).toString("utf8"))];
  }

  /** An upload: streamed to a file of its own in this request's temporary directory, never held in memory. */
  async #store(uploads: UploadOptions, name: string, stream: Readable, info: busboy.FileInfo): Promise<void> {
    if (this.files.has(name)) {
      stream.resume();
      throw new BadRequest(`the form carries more than one file for "${name}"`);
    }
    const file: { -readonly [K in keyof UploadedFile]: UploadedFile[K] } = {
      path: "",
      size: 0,
      filename: info.filename ?? "",
      type: info.mimeType,
    };
    this.files.set(name, file);
    const index = this.files.size;
    this.#dir ??= mkdir(uploads.dir, { recursive: true, mode: 0o700 }).then(() =>
      mkdtemp(join(uploads.dir, UPLOAD_DIR_PREFIX)),
    );
    const dir = await this.#dir;
    this.#dirPath = dir;
    file.path = join(dir, String(index));
    await pipeline(
      stream,
      async function* bounded(chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          file.size += chunk.byteLength;
          if (file.size > uploads.maxBytes) throw uploadTooLarge(uploads, name);
          yield chunk;
        }
      },
      createWriteStream(file.path, { flags: "wx", mode: 0o600 }),
    );
  }
}

/** Removes upload directories a previous run left behind (a crash mid-request); call before serving. */
export async function removeLeftoverUploads(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const entry of entries) {
    if (UPLOAD_DIR.test(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}
