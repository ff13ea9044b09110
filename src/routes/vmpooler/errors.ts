// vmpooler's error shape: {"ok": false, "reason": "<message>"}.
import { frontErrorShape } from "../front-errors.ts";

/** The body the front answers for an error (the auth guard uses it too). */
export function vmpoolerErrorBody(message: string): { ok: false; reason: string } {
  return { ok: false, reason: message };
}

export const vmpoolerErrorShape = frontErrorShape(vmpoolerErrorBody);
