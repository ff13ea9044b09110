// Reading a Kahu request's form values: every field from the query, urlencoded or multipart (plain or file parts) or JSON; unknown fields refused.
import type { Core } from "../../core/context.ts";
import { stagingDir } from "../../core/paths.ts";
import { BadRequest } from "../../errors.ts";
import { type RequestValues, readRequestValues } from "../request-values.ts";

/** The fields a route takes; `uploads` are streamed to disk (Kahu's `file`), the rest read as text. */
export interface KahuFields {
  required: readonly string[];
  optional: readonly string[];
  uploads?: readonly string[];
}

/** The request's values, any field outside `fields` refused (400); the caller disposes them (`await using`). */
export async function kahuForm(core: Core, request: Request, fields: KahuFields): Promise<RequestValues> {
  const uploads = fields.uploads ?? [];
  const values = await readRequestValues(request, {
    json: true,
    otherBodies: "refuse",
    maxValueBytes: core.config.limits.max_body_bytes,
    ...(uploads.length > 0
      ? {
          uploads: {
            names: uploads,
            dir: stagingDir(core.config),
            maxBytes: core.config.limits.max_upload_bytes,
          },
        }
      : {}),
  });
  try {
    const known = new Set([...fields.required, ...fields.optional, ...uploads]);
    const unknown = values.names().filter((n) => !known.has(n));
    if (unknown.length > 0) throw new BadRequest(`unknown field ${unknown.join(", ")}`);
    const missing = fields.required.filter((n) => values.get(n) === undefined || values.get(n) === "");
    if (missing.length > 0) throw new BadRequest(`${missing.join(", ")} is required`);
    for (const n of values.names()) {
      if (values.all(n).length > 1) throw new BadRequest(`${n} is given more than once`);
    }
    return values;
  } catch (e) {
    await values.dispose();
    throw e;
  }
}

/** A Kahu flag: true/false (also 1/0, yes/no, as forms send them); absent: `fallback`. */
export function flag(values: RequestValues, name: string, fallback: boolean): boolean {
  const v = values.get(name)?.toLowerCase();
  if (v === undefined || v === "") return fallback;
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new BadRequest(`${name} must be true or false, not ${JSON.stringify(values.get(name))}`);
}

/** One of `allowed`, or `fallback` when absent. */
export function oneOf<T extends string>(
  values: RequestValues,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = values.get(name);
  if (v === undefined || v === "") return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new BadRequest(`${name} must be one of ${allowed.join(", ")}, not ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A positive whole number of MiB. */
export function mebibytes(values: RequestValues, name: string): number | undefined {
  const v = values.get(name);
  if (v === undefined || v === "") return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v))
    throw new BadRequest(`${name} must be a whole number of MiB, not ${JSON.stringify(v)}`);
  return Number(v);
}
