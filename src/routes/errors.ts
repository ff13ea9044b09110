// The native API's one error mapping: every failure becomes {"error": {"code", "message"}} with its status.
import { AppError } from "../errors.ts";

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface ValidationLike {
  type?: string;
  all?: { path?: string; message?: string; summary?: string }[];
}

/** Elysia's validation message echoes the whole input; keep the path and what was expected. */
function describeValidation(e: ValidationLike): string {
  const first = e.all?.slice(0, 5) ?? [];
  if (first.length === 0) return `invalid ${e.type ?? "request"}`;
  const where = e.type ?? "body";
  return first
    .map((x) => {
      const path = x.path ? `${where}${x.path.replaceAll("/", ".")}` : where;
      return `${path}: ${x.message ?? x.summary ?? "invalid"}`;
    })
    .join("; ");
}

export function toErrorResponse(code: string | number, error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.errorCode, message: error.message } };
    if (error.details) body.error.details = error.details;
    return { status: error.httpStatus, body };
  }
  switch (code) {
    case "PARSE":
      return {
        status: 400,
        body: { error: { code: "invalid_json", message: "request body is not valid JSON" } },
      };
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
    default:
      // A bug: log it with its stack, answer without one.
      console.error("berth: unhandled error", error);
      return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
  }
}
