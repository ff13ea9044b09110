// vmpooler's error shape: {"ok": false, "reason": "<message>"} with the status berth's one error mapping chose.

interface NativeErrorBody {
  error: { code: string; message: string };
}

function isNativeError(x: unknown): x is NativeErrorBody {
  if (typeof x !== "object" || x === null || !("error" in x)) return false;
  const e = (x as { error: unknown }).error;
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

/** The body the front answers for an error (the auth guard uses it too). */
export function vmpoolerErrorBody(message: string): { ok: false; reason: string } {
  return { ok: false, reason: message };
}

/** A mapResponse hook: vmpooler answered failures with `"ok": false`; statuses still come from the one mapping. */
export function vmpoolerErrorShape({
  response,
  set,
}: {
  response: unknown;
  set: { status?: number | string };
}) {
  if (!isNativeError(response)) return undefined;
  const status = typeof set.status === "number" ? set.status : 500;
  return Response.json(vmpoolerErrorBody(response.error.message), { status });
}
