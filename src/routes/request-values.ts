// The one reader of named request values for fronts whose clients send forms: query string, form body, optionally JSON.
import { rm } from "node:fs/promises";
import { PayloadTooLarge } from "../core/limits.ts";
import { AppError, BadRequest } from "../errors.ts";
import { readBounded } from "./body-guard.ts";
import {
  type FormLimits,
  formByteBound,
  formTooLarge,
  parseFormBody,
  tooManyValues,
  type UploadedFile,
  type UploadOptions,
} from "./form-body.ts";

export { removeLeftoverUploads, type UploadedFile, type UploadOptions } from "./form-body.ts";

/** Values one request may carry, query and body together: a form of 100 000 parts is refused at the 1001st. */
export const MAX_VALUES = 1000;
/** Longest value name, in bytes (form field names in the fronts' documents are under 30). */
export const MAX_NAME_BYTES = 256;

export interface ReadValuesOptions {
  /** A JSON object body gives values (its top-level members) when true. */
  readonly json: boolean;
  /**
   * A body that is no form (nor JSON, with `json`): "refuse" answers 415; "ignore" leaves it unread, as
   * Flask's request.values did for PVC (a route may then read the raw body itself).
   */
  readonly otherBodies: "refuse" | "ignore";
  /** [limits] max_body_bytes: all values, text file parts and framing together; 413 beyond. */
  readonly maxValueBytes: number;
  /** File parts to stream to disk instead of reading as text; without it every file part is a text value. */
  readonly uploads?: UploadOptions;
}

/**
 * The values of one request. Order: the query string's values first, then the body's, each in the order
 * sent; `get` gives the first, so a name in both is taken from the query string, as PVC's Flask
 * `request.values` (a CombinedMultiDict of args, then form) did.
 *
 * Ownership: the caller owns the uploaded files and must `dispose()` the values when done (or hold them
 * with `await using`); dispose removes every file still in the temporary directory. To keep an upload,
 * move its `path` elsewhere (same filesystem) before disposing.
 */
export interface RequestValues extends AsyncDisposable {
  /** The first value of `name` (a text file part's content, without its final line end). */
  get(name: string): string | undefined;
  /** Every value of `name`, in order (e.g. PVC's repeated `tag`). */
  all(name: string): readonly string[];
  /** Whether `name` was sent at all, even empty (`flag_yes_i_really_mean_it=`), or as an upload. */
  has(name: string): boolean;
  /** The file part of an upload name (`ReadValuesOptions.uploads.names`), stored on disk. */
  file(name: string): UploadedFile | undefined;
  /** Every name sent, once each, for refusing unknown ones. */
  names(): string[];
  dispose(): Promise<void>;
}

/**
 * Reads the values of `request`. Call it from an Elysia route declared with `parse: "none"` (otherwise
 * Elysia has read the body already); it streams `request.body` itself, so it works under `bodyGuard`.
 * Throws 400 for a malformed body, 413 past the limits, 415 for a body it does not read (`otherBodies`),
 * and leaves no file behind when it throws.
 */
export async function readRequestValues(request: Request, opts: ReadValuesOptions): Promise<RequestValues> {
  if (request.bodyUsed) {
    throw new Error('readRequestValues: the request body was read before (the route needs parse: "none")');
  }
  const entries = [...new URL(request.url).searchParams];
  if (entries.length > MAX_VALUES) throw tooManyValues(MAX_VALUES);
  for (const [name] of entries) checkName(name);
  const type = request.headers.get("content-type");
  const media = type?.split(";")[0]?.trim().toLowerCase() ?? "";
  const declared = request.headers.get("content-length");
  const body = declared === "0" ? null : request.body;
  if (!body) return new Values(entries, new Map(), null);

  if (type && (media === "application/x-www-form-urlencoded" || media === "multipart/form-data")) {
    const limits: FormLimits = {
      maxValueBytes: opts.maxValueBytes,
      maxValues: MAX_VALUES - entries.length,
      countedBefore: entries.length,
      maxNameBytes: MAX_NAME_BYTES,
      uploads: opts.uploads,
    };
    if (declared !== null && Number(declared) > formByteBound(limits)) throw formTooLarge(limits);
    const form = await parseFormBody(body, type, limits);
    return new Values([...entries, ...form.values], form.files, form.dir);
  }
  if (opts.json && media === "application/json") {
    return new Values(
      [...entries, ...(await jsonValues(request, opts.maxValueBytes, entries.length))],
      new Map(),
      null,
    );
  }
  if (opts.otherBodies === "ignore") return new Values(entries, new Map(), null);
  // No Content-Type and nothing sent (a chunked empty body) is no body; anything else is refused.
  if (!type && (await isEmpty(request))) return new Values(entries, new Map(), null);
  throw new AppError(
    415,
    "unsupported_media_type",
    `the request body must be a form (application/x-www-form-urlencoded or multipart/form-data)${
      opts.json ? " or a JSON object (application/json)" : ""
    }, not ${type ? media : "a body without Content-Type"}`,
  );
}

function checkName(name: string): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new BadRequest(`a value name is longer than ${MAX_NAME_BYTES} bytes`);
  }
}

async function isEmpty(request: Request): Promise<boolean> {
  try {
    return (await readBounded(request, 0)).byteLength === 0;
  } catch (e) {
    if (e instanceof PayloadTooLarge) return false; // more than 0 bytes: a body after all
    throw e;
  }
}

/** A JSON object's members as values: strings as sent, numbers and booleans as their JSON text, arrays as repeated values, null as absent. */
async function jsonValues(request: Request, maxBytes: number, already: number): Promise<[string, string][]> {
  const text = new TextDecoder().decode(await readBounded(request, maxBytes));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BadRequest(`malformed JSON body: ${(e as Error).message}`, { cause: e });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BadRequest("the JSON body must be an object of values");
  }
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(doc)) {
    checkName(name);
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null) continue;
      if (typeof v === "object") {
        throw new BadRequest(`JSON value "${name}" must be a string, number, boolean or a list of them`);
      }
      out.push([name, typeof v === "string" ? v : JSON.stringify(v)]);
      if (already + out.length > MAX_VALUES) throw tooManyValues(MAX_VALUES);
    }
  }
  return out;
}

class Values implements RequestValues {
  readonly #values = new Map<string, string[]>();
  readonly #files: ReadonlyMap<string, UploadedFile>;
  #dir: string | null;

  constructor(entries: [string, string][], files: ReadonlyMap<string, UploadedFile>, dir: string | null) {
    for (const [name, value] of entries) {
      const list = this.#values.get(name);
      if (list) list.push(value);
      else this.#values.set(name, [value]);
    }
    this.#files = files;
    this.#dir = dir;
  }

  get(name: string): string | undefined {
    return this.#values.get(name)?.[0];
  }

  all(name: string): readonly string[] {
    return this.#values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.#values.has(name) || this.#files.has(name);
  }

  file(name: string): UploadedFile | undefined {
    return this.#files.get(name);
  }

  names(): string[] {
    return [...new Set([...this.#values.keys(), ...this.#files.keys()])];
  }

  async dispose(): Promise<void> {
    const dir = this.#dir;
    this.#dir = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
