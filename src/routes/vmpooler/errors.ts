// vmpooler's error shape: {"ok": false, "reason": "<message>"}.

/** The body the front answers for an error. */
export function vmpoolerErrorBody(message: string): { ok: false; reason: string } {
  return { ok: false, reason: message };
}

/** Whether `body` is an error in vmpooler's shape. */
export function isVmpoolerErrorBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const b = body as { ok?: unknown; reason?: unknown };
  return b.ok === false && typeof b.reason === "string";
}
