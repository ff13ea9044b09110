// Refuses, before validation, bodies no berth schema accepts and the validator handles badly: bare strings, deep nesting.
import { Elysia } from "elysia";
import { AppError, BadRequest } from "../errors.ts";

/** Deeper than every body schema berth has; the validator recurses once per level and a deep body overflows it. */
export const MAX_BODY_DEPTH = 32;

/** Whether `value` nests arrays or objects more than `max` levels deep; iterative, so any depth is safe to check. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Global: runs after a body is parsed and before it is validated, on every route of every front.
 * Every berth body is a JSON object (uploads read the raw stream); a string body (text/plain, or a JSON string)
 * would be spread by Elysia into an object with one key per character before validation: seconds of CPU per MB.
 */
export function bodyGuard() {
  return new Elysia({ name: "berth-body-guard" }).onTransform({ as: "global" }, ({ body }) => {
    if (typeof body === "string" && body !== "") {
      throw new AppError(
        415,
        "unsupported_media_type",
        "the request body must be a JSON object (application/json)",
      );
    }
    if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
      throw new BadRequest(`request body is nested more than ${MAX_BODY_DEPTH} levels deep`);
    }
  });
}
