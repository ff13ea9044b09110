// The one error mapping: every failure becomes a status and {"error": {"code", "message"}}, then the path's front's shape.
import { Elysia } from "elysia";
import { AppError, asDatabaseBusy, asInsufficientStorage } from "../errors.ts";

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface SchemaLike {
  type?: string;
  const?: unknown;
  format?: string;
  anyOf?: SchemaLike[];
}

interface ErrorLike {
  path?: string;
  message?: string;
  summary?: string;
  schema?: SchemaLike;
  /** A union's errors, one list per branch. */
  errors?: Iterable<ErrorLike>[];
}

interface ValidationLike {
  type?: string;
  all?: ErrorLike[];
}

/** For a union, the errors of the branch the value fits best: fewest unexpected fields, then fewest errors. */
function closestBranch(x: ErrorLike): ErrorLike[] {
  if (!x.errors?.length) return [x];
  const branches = x.errors.map((b) => [...b]);
  // A union of constants (an enum): no branch is closer, so the union itself names every allowed value.
  if (branches.every((b) => b.length === 1 && b[0]?.schema?.const !== undefined)) return [x];
  const unexpected = (b: ErrorLike[]) => b.filter((e) => e.message === "Unexpected property").length;
  const best = branches.reduce((a, b) =>
    unexpected(b) < unexpected(a) || (unexpected(b) === unexpected(a) && b.length < a.length) ? b : a,
  );
  return best.length > 0 ? best : [x];
}

/** What a schema wants, in words: "integer", "one of \"a\", \"b\"". */
function wanted(schema: SchemaLike | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  // Elysia widens numbers to accept numeric strings; the number is what the client should send.
  if (schema.anyOf) {
    const real = schema.anyOf.filter(
      (b) => !(b.type === "string" && (b.format === "integer" || b.format === "numeric")),
    );
    const parts = [...new Set(real.map(wanted).filter((x): x is string => !!x))];
    return parts.length === 1 ? parts[0] : `one of ${parts.join(", ")}`;
  }
  return schema.type;
}

/** Elysia's validation message echoes the whole input; keep the first problem per field and what was expected. */
function describeValidation(e: ValidationLike): string {
  const where = e.type ?? "body";
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const x of (e.all ?? []).flatMap(closestBranch)) {
    const path = x.path ? `${where}${x.path.replaceAll("/", ".")}` : where;
    if (seen.has(path)) continue;
    seen.add(path);
    const msg =
      x.message === "Expected union value" && wanted(x.schema) ? `Expected ${wanted(x.schema)}` : x.message;
    parts.push(`${path}: ${msg ?? x.summary ?? "invalid"}`);
    if (parts.length === 5) break;
  }
  return parts.length > 0 ? parts.join("; ") : `invalid ${where}`;
}

export function toErrorResponse(code: string | number, error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.errorCode, message: error.message } };
    if (error.details) body.error.details = error.details;
    return { status: error.httpStatus, body };
  }
  switch (code) {
    case "PARSE": {
      // A bounded body read refused the body (413): Elysia wraps whatever a parser throws.
      const cause = (error as Error).cause;
      if (cause instanceof AppError) return toErrorResponse(cause.errorCode, cause);
      return {
        status: 400,
        body: { error: { code: "invalid_json", message: "request body is not valid JSON" } },
      };
    }
    case "VALIDATION":
      return {
        status: 400,
        body: { error: { code: "invalid_request", message: describeValidation(error as ValidationLike) } },
      };
    case "NOT_FOUND":
      return { status: 404, body: { error: { code: "not_found", message: "no such route" } } };
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return {
        status: 400,
        body: { error: { code: "invalid_request", message: String((error as Error).message) } },
      };
    default: {
      // SQLITE_FULL from a write on a full data directory: the client can retry once space returns; a
      // database whose write lock stayed taken (SQLITE_BUSY) is a 503 too.
      const known = asInsufficientStorage(error, "the database") ?? asDatabaseBusy(error, "the database");
      if (known) return toErrorResponse(code, known);
      // A bug: log it with its stack, answer without one.
      console.error("berth: unhandled error", error);
      return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
    }
  }
}

/**
 * The status and body a path's front answers for an error (src/routes/fronts/registry.ts), from the one
 * mapping's; `unknownRoute` when no route matched the request at all.
 */
export type ErrorShaper = (
  path: string,
  status: number,
  body: ErrorBody,
  unknownRoute: boolean,
) => { status: number; body: unknown };

const nativeShape: ErrorShaper = (_path, status, body) => ({ status, body });

/** The mapping as a plugin, global so it covers every route of the app that uses it. */
export function errorMapping(shape: ErrorShaper = nativeShape) {
  return new Elysia({ name: "berth-error-mapping" }).onError(
    { as: "global" },
    ({ code, error, set, request }) => {
      const mapped = toErrorResponse(code, error);
      // A body refused before it was read whole is not drained (it may be gigabytes): close instead.
      if (mapped.status === 413 || (request.body !== null && !request.bodyUsed))
        set.headers.connection = "close";
      const shaped = shape(new URL(request.url).pathname, mapped.status, mapped.body, code === "NOT_FOUND");
      set.status = shaped.status;
      return shaped.body;
    },
  );
}
