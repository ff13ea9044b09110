// PVC's old dialect for failures: 510 {"message": "ERROR: ..."} (quotes turned to '), 520 for a missing value, 599 to confirm, 401 and 404 as PVC had them.
import { AppError } from "../../errors.ts";
import type { ErrorBody } from "../errors.ts";

/** A mandatory value is missing: PVC's 520. */
export class MissingValue extends AppError {
  constructor(message: string) {
    super(400, "missing_value", message);
  }
}

/** A dangerous removal sent without flag_yes_i_really_mean_it: PVC's 599. */
export class NeedsConfirmation extends AppError {
  constructor() {
    super(
      599,
      "needs_confirmation",
      "This command can have unintended consequences and should not be automated. To confirm, resend with the argument 'flag_yes_i_really_mean_it'.",
    );
  }
}

/** PVC's only 404 in this dialect. */
export class VmNotFound extends AppError {
  constructor() {
    super(404, "vm_not_found", "VM not found.");
  }
}

/** Messages PVC answered as they are, without its ERROR: prefix. */
const VERBATIM = new Set(["vm_not_found", "unauthorized"]);

/**
 * PVC's status for a failure berth described: every refusal of the request or its action, and every
 * failure of the host (libvirt down, a timeout, a full disk), is 510; a berth bug stays a 500, as PVC's were.
 */
export function pvcErrorStatus(status: number, native: ErrorBody, unknownRoute: boolean): number {
  const code = native.error.code;
  if (unknownRoute || status === 401 || status === 599 || code === "internal") return status;
  if (code === "vm_not_found") return 404;
  if (code === "missing_value") return 520;
  return 510;
}

/** PVC turned every " in a message into '. */
const quoted = (s: string) => s.replaceAll('"', "'");

export function pvcErrorBody(native: ErrorBody): { message: string } {
  const { code, message } = native.error;
  if (code === "unauthorized") {
    return { message: /invalid|expired/.test(message) ? "Authentication failed" : "Authentication required" };
  }
  return { message: VERBATIM.has(code) ? message : `ERROR: ${quoted(message)}` };
}

/** Whether `body` is a failure in PVC's shape. */
export function isPvcErrorBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  return keys.length === 1 && typeof (body as { message?: unknown }).message === "string";
}
