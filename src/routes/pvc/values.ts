// Reading a PVC request's values: query string and form bodies (urlencoded or multipart), JSON ignored; flags by presence.
import type { Core } from "../../core/context.ts";
import { type RequestValues, readRequestValues } from "../request-values.ts";
import { MissingValue } from "./errors.ts";

/** The request's values as Flask's request.values gave them (query first); the caller disposes them. */
export async function pvcValues(core: Core, request: Request): Promise<RequestValues> {
  return await readRequestValues(request, {
    json: false,
    otherBodies: "ignore",
    maxValueBytes: core.config.limits.max_body_bytes,
  });
}

/** A mandatory value: PVC's 520 with its message when absent or empty. */
export function required(values: RequestValues, name: string, message: string): string {
  const v = values.get(name);
  if (v === undefined || v === "") throw new MissingValue(message);
  return v;
}

/** PVC tested flags for presence only: flag_force=false is a set flag. */
export const flag = (values: RequestValues, name: string): boolean => values.has(name);
