// The staging agent's error shape: {"error": "<message>"} with the status berth's one error mapping chose.

interface NativeErrorBody {
  error: { code: string; message: string };
}

function isNativeError(x: unknown): x is NativeErrorBody {
  if (typeof x !== "object" || x === null || !("error" in x)) return false;
  const e = (x as { error: unknown }).error;
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

/**
 * A mapResponse hook: the agent documented no error body, so its routes answer `{"error": message}`.
 * Statuses and messages still come from the app's one mapping; only the body's shape changes here.
 */
export function stagingErrorShape({
  response,
  set,
}: {
  response: unknown;
  set: { status?: number | string };
}) {
  if (!isNativeError(response)) return undefined;
  const status = typeof set.status === "number" ? set.status : 500;
  return Response.json({ error: response.error.message }, { status });
}
